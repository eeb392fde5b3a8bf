import { expect } from "chai";
import fc from "fast-check";
import { createBytePair } from "../../harness/transport/byte-stream.js";
import { ReadTimeoutError } from "../../harness/transport/errors.js";
import { fromHex, hexDump, toHex } from "../../harness/transport/hex.js";
import {
  recordStream,
  Transcript,
  type TranscriptDir,
  type TranscriptEntry,
} from "../../harness/transport/transcript.js";
import { ManualClock, settle } from "./helpers.js";

const ascii = (text: string) => Uint8Array.from(text, (c) => c.charCodeAt(0));
const range = (n: number) => Uint8Array.from({ length: n }, (_, i) => i & 0xff);

describe("transport/transcript", () => {
  describe("render()", () => {
    it("prints an annotated hex dump: time, arrow, direction, count, note, then offset/hex/ASCII lines", () => {
      const transcript = new Transcript({ clock: new ManualClock() });
      transcript.record({ t: 0, dir: "tx", bytes: Uint8Array.of(0x7f) });
      transcript.record({ t: 1.5, dir: "rx", bytes: Uint8Array.of(0x79), note: "ACK" });
      transcript.record({ t: 2, dir: "event", note: "power cut" });
      transcript.record({
        t: 12.25,
        dir: "tx",
        bytes: Uint8Array.of(...ascii("Hello, bootloader!"), 0x00, 0xff),
      });
      const setup = { bmRequestType: 0x21, bRequest: 0x01, wValue: 2, wIndex: 0, wLength: 4 };
      transcript.record({ t: 13, dir: "ctrl-out", setup, status: "ok", bytes: Uint8Array.of(0, 0, 0, 0) });
      const getStatus = { bmRequestType: 0xa1, bRequest: 0x03, wValue: 0, wIndex: 0, wLength: 6 };
      transcript.record({ t: 14, dir: "ctrl-in", setup: getStatus, status: "stall" });

      expect(transcript.render()).to.equal(
        [
          "     0.000 ms >> tx 1 byte",
          "    0000  7f                                                |.|",
          "     1.500 ms << rx 1 byte (ACK)",
          "    0000  79                                                |y|",
          "     2.000 ms -- power cut",
          "    12.250 ms >> tx 20 bytes",
          "    0000  48 65 6c 6c 6f 2c 20 62  6f 6f 74 6c 6f 61 64 65  |Hello, bootloade|",
          "    0010  72 21 00 ff                                       |r!..|",
          "    13.000 ms >> ctrl-out bmRequestType=0x21 bRequest=0x01 wValue=0x0002 wIndex=0x0000 wLength=4 -> ok, 4 bytes",
          "    0000  00 00 00 00                                       |....|",
          "    14.000 ms << ctrl-in bmRequestType=0xa1 bRequest=0x03 wValue=0x0000 wIndex=0x0000 wLength=6 -> *** STALL ***",
          "",
        ].join("\n"),
      );
    });

    it("elides the middle of a long transfer with a byte count, keeping true offsets", () => {
      const transcript = new Transcript({ clock: new ManualClock() });
      transcript.record({ t: 0, dir: "rx", bytes: range(200) });
      expect(transcript.render()).to.equal(
        [
          "     0.000 ms << rx 200 bytes",
          "    0000  00 01 02 03 04 05 06 07  08 09 0a 0b 0c 0d 0e 0f  |................|",
          "    0010  10 11 12 13 14 15 16 17  18 19 1a 1b 1c 1d 1e 1f  |................|",
          "    0020  20 21 22 23 24 25 26 27  28 29 2a 2b 2c 2d 2e 2f  | !\"#$%&'()*+,-./|",
          "    0030  30 31 32 33 34 35 36 37  38 39 3a 3b 3c 3d 3e 3f  |0123456789:;<=>?|",
          "    ... 112 bytes elided ...",
          "    00b0  b0 b1 b2 b3 b4 b5 b6 b7  b8 b9 ba bb bc bd be bf  |................|",
          "    00c0  c0 c1 c2 c3 c4 c5 c6 c7                           |........|",
          "",
        ].join("\n"),
      );
    });

    it("takes the elision window from options, or prints everything with elide: false", () => {
      const transcript = new Transcript({ clock: new ManualClock() });
      transcript.record({ t: 0, dir: "rx", bytes: range(200) });
      const short = transcript.render({ headLines: 1, tailLines: 1 }).split("\n");
      expect(short.slice(1, 4)).to.deep.equal([
        "    0000  00 01 02 03 04 05 06 07  08 09 0a 0b 0c 0d 0e 0f  |................|",
        "    ... 176 bytes elided ...",
        "    00c0  c0 c1 c2 c3 c4 c5 c6 c7                           |........|",
      ]);
      expect(transcript.render({ elide: false }).split("\n")).to.have.length(1 + 13 + 1);
    });

    it("does not elide when that would hide a single line", () => {
      expect(hexDump(range(7 * 16))).to.have.length(7);
      expect(hexDump(range(8 * 16))).to.have.length(4 + 1 + 2);
    });

    it("widens the offset column past 64 KiB", () => {
      const lines = hexDump(new Uint8Array(0x10001));
      expect(lines[0]).to.match(/^ {4}00000 {2}00 /);
      expect(lines.at(-1)).to.match(/^ {4}10000 {2}00 {48}\|\.\|$/);
    });
  });

  describe("JSON", () => {
    const setupArb = fc.record({
      bmRequestType: fc.integer({ min: 0, max: 0xff }),
      bRequest: fc.integer({ min: 0, max: 0xff }),
      wValue: fc.integer({ min: 0, max: 0xffff }),
      wIndex: fc.integer({ min: 0, max: 0xffff }),
      wLength: fc.integer({ min: 0, max: 0xffff }),
    });
    const entryArb = fc.record(
      {
        // Thousandths of a millisecond survive JSON exactly; -0 and NaN would not, and clocks never give them.
        t: fc.integer({ min: 0, max: 1e12 }).map((n) => n / 1000),
        dir: fc.constantFrom<TranscriptDir>("tx", "rx", "event", "ctrl-out", "ctrl-in"),
        bytes: fc.uint8Array({ maxLength: 80 }),
        note: fc.string(),
        setup: setupArb,
        status: fc.constantFrom("ok" as const, "stall" as const, "babble" as const, "error" as const),
      },
      { requiredKeys: ["t", "dir"] },
    );

    it("round-trips through JSON text unchanged (property)", () => {
      fc.assert(
        fc.property(fc.array(entryArb, { maxLength: 20 }), (entries: TranscriptEntry[]) => {
          const transcript = new Transcript({ clock: new ManualClock() });
          for (const entry of entries) transcript.record(entry);
          const restored = Transcript.fromJSON(JSON.parse(JSON.stringify(transcript)));
          expect(restored.entries).to.deep.equal(transcript.entries);
          expect(restored.render()).to.equal(transcript.render());
        }),
      );
    });

    it("stores bytes as hex", () => {
      const transcript = new Transcript({ clock: new ManualClock() });
      transcript.record({ t: 1, dir: "tx", bytes: Uint8Array.of(0x7f, 0xa5) });
      transcript.note("power cut");
      expect(transcript.toJSON()).to.deep.equal({
        format: "update-hil/transcript@1",
        entries: [
          { t: 1, dir: "tx", hex: "7fa5" },
          { t: 0, dir: "event", note: "power cut" },
        ],
      });
    });

    it("rejects malformed documents, naming the entry", () => {
      const doc = (entry: object) => ({ format: "update-hil/transcript@1", entries: [entry] });
      expect(() => Transcript.fromJSON({ entries: [] })).to.throw(TypeError, /format/);
      expect(() => Transcript.fromJSON(doc({ t: 0, dir: "sideways" }))).to.throw(TypeError, /entry 0: "dir"/);
      expect(() => Transcript.fromJSON(doc({ t: "0", dir: "tx" }))).to.throw(TypeError, /entry 0: "t"/);
      expect(() => Transcript.fromJSON(doc({ t: 0, dir: "tx", hex: "abc" }))).to.throw(TypeError, /hex/);
      expect(() => Transcript.fromJSON(doc({ t: 0, dir: "ctrl-in", setup: { bRequest: 3 } }))).to.throw(
        /setup/,
      );
    });

    it("hex helpers are inverse", () => {
      fc.assert(
        fc.property(fc.uint8Array(), (b) => {
          expect(fromHex(toHex(b))).to.deep.equal(b);
        }),
      );
    });
  });

  describe("recordStream()", () => {
    it("records writes, reads, partial bytes of a timed-out read, signals and the close", async () => {
      const clock = new ManualClock();
      const transcript = new Transcript({ clock });
      const pair = createBytePair({ clock });
      const host = recordStream(pair.host, transcript);

      await host.write(Uint8Array.of(0x7f));
      await pair.device.write(Uint8Array.of(0x79));
      await clock.advance(1.5);
      expect(await host.read(1, { timeoutMs: 10 })).to.deep.equal(Uint8Array.of(0x79));
      const read = host.read(2, { timeoutMs: 10 }).catch((e: unknown) => e);
      await pair.device.write(Uint8Array.of(0x1f));
      await clock.advance(10);
      expect(await read).to.be.instanceOf(ReadTimeoutError);
      await host.setSignals({ dtr: false });
      await pair.device.close();
      await settle();

      expect(host.closed, "getters still read the wrapped stream").to.equal(true);
      expect(transcript.entries).to.deep.equal([
        { t: 0, dir: "tx", bytes: Uint8Array.of(0x7f) },
        { t: 1.5, dir: "rx", bytes: Uint8Array.of(0x79) },
        { t: 11.5, dir: "rx", bytes: Uint8Array.of(0x1f), note: "timeout after 10 ms, wanted 2" },
        { t: 11.5, dir: "event", note: "signals dtr=0" },
        { t: 11.5, dir: "event", note: "pair:host disconnected: peer pair:device closed" },
      ]);
    });

    it("records a read ended by a close with its partial bytes", async () => {
      const transcript = new Transcript({ clock: new ManualClock() });
      const pair = createBytePair({ clock: transcript.clock });
      const host = recordStream(pair.host, transcript);
      const read = host.read(4, { timeoutMs: 1000 }).catch(() => {});
      await pair.device.write(Uint8Array.of(1, 2));
      await settle();
      await pair.device.close();
      await read;
      expect(transcript.entries[0]).to.deep.include({ dir: "rx", bytes: Uint8Array.of(1, 2) });
      expect(transcript.entries[0]?.note).to.match(/^read of 4 ended: pair:host closed/);
    });

    it("on the device end, records host-to-device bytes as tx once per chunk, whatever the listener count", async () => {
      const transcript = new Transcript({ clock: new ManualClock() });
      const pair = createBytePair({ clock: transcript.clock });
      const device = recordStream(pair.device, transcript, { side: "device" });
      const seen: number[] = [];
      const stopA = device.onData((b) => seen.push(...b));
      device.onData((b) => seen.push(...b));
      await pair.host.write(Uint8Array.of(5));
      await settle();
      await device.write(Uint8Array.of(6));
      stopA();
      expect(seen).to.deep.equal([5, 5]);
      expect(device.signals, "device getters pass through").to.deep.equal({ dtr: true, rts: true });
      expect(transcript.entries.map((e) => [e.dir, [...(e.bytes ?? [])]])).to.deep.equal([
        ["tx", [5]],
        ["rx", [6]],
      ]);
    });
  });
});
