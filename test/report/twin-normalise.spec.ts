/**
 * The normalisation rules of twin comparisons, one test per rule: what a rule masks no
 * longer parts a lab board from its twin, and what it does not mask still does.
 */
import { expect } from "chai";
import fc from "fast-check";
import { NORMALISATION, normalise, type TranscriptSegment } from "../../harness/report/twin-normalise.js";
import type { TranscriptJson } from "../../harness/transport/transcript.js";

type Entry = TranscriptJson["entries"][number];
const seg = (link: string, entries: Entry[]): TranscriptSegment[] => [{ link, entries }];
const shape = (segments: TranscriptSegment[]) => normalise(segments).map(({ at: _at, ...rest }) => rest);
const same = (a: TranscriptSegment[], b: TranscriptSegment[]) =>
  JSON.stringify(shape(a)) === JSON.stringify(shape(b));

describe("report/twin-normalise: what may differ between a lab board and its twin", () => {
  it("lists its rules in one table, each with why", () => {
    const rules = Object.entries(NORMALISATION).flatMap(([p, list]) => list.map((r) => `${p}: ${r.name}`));
    expect(rules).to.deep.equal([
      "common: link events",
      "common: timing",
      "common: chunking",
      "usart: usart uid",
      "dfu: usb serial number",
      "dfu: dfu bwPollTimeout",
      "dfu: dfu busy stalls",
      "tkey: tkey udi",
      "smp: smp hashes and keys",
    ]);
    for (const list of Object.values(NORMALISATION))
      for (const r of list) expect(r.why).to.have.length.above(20);
  });

  it("timing: entry times and durations in notes are masked; other numbers are not", () => {
    const lab = seg("usart", [{ t: 12.5, dir: "rx", hex: "", note: "timeout after 1000 ms, wanted 1" }]);
    const twin = seg("usart", [{ t: 3, dir: "rx", hex: "", note: "timeout after 250.5 ms, wanted 1" }]);
    expect(same(lab, twin)).to.equal(true);
    const other = seg("usart", [{ t: 3, dir: "rx", hex: "", note: "timeout after 250 ms, wanted 2" }]);
    expect(same(lab, other)).to.equal(false);
  });

  it("link events: a port's open/close/flush/DTR notes go; the client's operation notes stay", () => {
    const lab = seg("usart", [
      { t: 0, dir: "event", note: "signals dtr=1 rts=0" },
      { t: 0, dir: "event", note: "Get" },
      { t: 1, dir: "event", note: "flush /dev/serial/by-id/usb-ST-if02" },
      { t: 2, dir: "event", note: "/dev/pts/4 closed: by the host" },
    ]);
    const twin = seg("usart", [
      { t: 0, dir: "event", note: "Get" },
      { t: 2, dir: "event", note: "stm32l432kc:usart disconnected: power off" },
    ]);
    expect(shape(lab)).to.deep.equal([{ link: "usart", dir: "event", note: "Get" }]);
    expect(same(lab, twin)).to.equal(true);
    expect(same(lab, seg("usart", [{ t: 0, dir: "event", note: "Get ID" }]))).to.equal(false);
  });

  it("chunking: adjacent reads in one direction are one exchange, however the driver split them (property)", () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 1, maxLength: 64 }),
        fc.array(fc.nat(64), { maxLength: 6 }),
        (bytes, cuts) => {
          const hex = Buffer.from(bytes).toString("hex");
          const points = [...new Set(cuts.map((c) => c % bytes.length))]
            .filter((c) => c > 0)
            .sort((a, b) => a - b);
          const chunks = [0, ...points].map((p, i) => hex.slice(p * 2, (points[i] ?? bytes.length) * 2));
          const split = seg("usart", [
            { t: 0, dir: "tx", hex: "00ff" },
            ...chunks.map((h) => ({ t: 1, dir: "rx" as const, hex: h })),
          ]);
          const whole = seg("usart", [
            { t: 0, dir: "tx", hex: "00ff" },
            { t: 1, dir: "rx", hex },
          ]);
          return same(split, whole);
        },
      ),
    );
    // A timed-out read stays its own exchange: what it waited for differs.
    const timedOut = seg("usart", [
      { t: 0, dir: "rx", hex: "79" },
      { t: 1, dir: "rx", hex: "", note: "timeout after 5 ms, wanted 1" },
    ]);
    expect(normalise(timedOut)).to.have.length(2);
  });

  it("usart uid: Read Memory of the 96-bit unique ID at 0x1FFF7590 is masked; of flash it is not", () => {
    const read = (address: string, data: string): Entry[] => [
      { t: 0, dir: "tx", hex: "11ee" },
      { t: 0, dir: "rx", hex: "79" },
      { t: 0, dir: "tx", hex: address },
      { t: 0, dir: "rx", hex: "79" },
      { t: 0, dir: "tx", hex: "0bf4" },
      { t: 0, dir: "rx", hex: `79${data}` },
    ];
    // 1F FF 75 90, XOR 0x17.
    const uidAt = "1fff759017";
    const lab = seg("usart", read(uidAt, "0102030405060708090a0b0c"));
    const twin = seg("usart", read(uidAt, "a1a2a3a4a5a6a7a8a9aaabac"));
    expect(same(lab, twin)).to.equal(true);
    expect(normalise(lab).at(-1)?.hex).to.equal(`79${"xx".repeat(12)}`);
    // 08 00 00 00, XOR 0x08: flash contents are compared.
    expect(
      same(
        seg("usart", read("0800000008", "00".repeat(12))),
        seg("usart", read("0800000008", "01".repeat(12))),
      ),
    ).to.equal(false);
  });

  it("usb serial number: the iSerialNumber string and a re-enumeration's handle are masked; the product string is not", () => {
    const device = (iSerial: number): Entry => ({
      t: 0,
      dir: "ctrl-in",
      setup: { bmRequestType: 0x80, bRequest: 6, wValue: 0x0100, wIndex: 0, wLength: 18 },
      status: "ok",
      hex: `12010002000000408304${"11df"}0022010203${iSerial.toString(16).padStart(2, "0")}01`,
    });
    const string = (index: number, text: string): Entry => ({
      t: 0,
      dir: "ctrl-in",
      setup: { bmRequestType: 0x80, bRequest: 6, wValue: 0x0300 | index, wIndex: 0x0409, wLength: 255 },
      status: "ok",
      hex: `${(2 + text.length * 2).toString(16).padStart(2, "0")}03${Buffer.from(text, "utf16le").toString("hex")}`,
    });
    const lab = seg("dfu", [
      device(3),
      string(3, "2051354D5748"),
      { t: 0, dir: "event", note: "re-enumerated: new handle 2051354D5748" },
    ]);
    const twin = seg("dfu", [
      device(3),
      string(3, "EMU000000001"),
      { t: 0, dir: "event", note: "re-enumerated: new handle EMU000000001" },
    ]);
    expect(same(lab, twin)).to.equal(true);
    expect(
      same(
        seg("dfu", [device(3), string(2, "STM32 BOOTLOADER")]),
        seg("dfu", [device(3), string(2, "STM32  BOOTLOADER")]),
      ),
    ).to.equal(false);
  });

  it("dfu busy stalls: a run of stalled GETSTATUS polls is one; a stall against a reply, or of another request, is not", () => {
    const getStatus = (status: "ok" | "stall", hex?: string): Entry => ({
      t: 0,
      dir: "ctrl-in",
      setup: { bmRequestType: 0xa1, bRequest: 3, wValue: 0, wIndex: 0, wLength: 6 },
      status,
      ...(hex ? { hex } : {}),
    });
    const upload: Entry = {
      t: 0,
      dir: "ctrl-in",
      setup: { bmRequestType: 0xa1, bRequest: 2, wValue: 2, wIndex: 0, wLength: 64 },
      status: "stall",
    };
    const busy = getStatus("ok", "000800000400");
    const idle = getStatus("ok", "000000000500");
    const stalls = (n: number) => Array.from({ length: n }, () => getStatus("stall"));
    expect(same(seg("dfu", [busy, ...stalls(1), idle]), seg("dfu", [busy, ...stalls(3), idle]))).to.equal(
      true,
    );
    expect(same(seg("dfu", [busy, ...stalls(1), idle]), seg("dfu", [busy, idle]))).to.equal(false);
    expect(same(seg("dfu", [busy, upload, upload]), seg("dfu", [busy, upload]))).to.equal(false);
    // Stalls apart (a reply between them) are two.
    expect(
      same(seg("dfu", [busy, ...stalls(1), idle, ...stalls(1)]), seg("dfu", [busy, ...stalls(2), idle])),
    ).to.equal(false);
  });

  it("dfu bwPollTimeout: GETSTATUS's poll time is masked; its status and state are not", () => {
    const getStatus = (hex: string): Entry => ({
      t: 0,
      dir: "ctrl-in",
      setup: { bmRequestType: 0xa1, bRequest: 3, wValue: 0, wIndex: 0, wLength: 6 },
      status: "ok",
      hex,
    });
    expect(same(seg("dfu", [getStatus("001a00000400")]), seg("dfu", [getStatus("000300000400")]))).to.equal(
      true,
    );
    expect(same(seg("dfu", [getStatus("001a00000400")]), seg("dfu", [getStatus("001a00000500")]))).to.equal(
      false,
    );
    expect(same(seg("dfu", [getStatus("001a00000400")]), seg("dfu", [getStatus("0a1a00000400")]))).to.equal(
      false,
    );
  });

  it("tkey udi: FW_RSP_GET_UDI's 8 UDI bytes are masked; its status byte is not", () => {
    const rsp = (status: string, udi: string): Entry[] => [
      { t: 0, dir: "rx", hex: `5209${status}${udi}${"00".repeat(21)}` },
    ];
    expect(
      same(seg("tkey", rsp("00", "0123456789abcdef")), seg("tkey", rsp("00", "fedcba9876543210"))),
    ).to.equal(true);
    expect(
      same(seg("tkey", rsp("00", "0123456789abcdef")), seg("tkey", rsp("01", "0123456789abcdef"))),
    ).to.equal(false);
  });

  it("smp hashes and keys: a hash or key in a client note is masked; the slot and flags are not", () => {
    const note = (text: string): Entry[] => [{ t: 0, dir: "event", note: text }];
    const a = note("image list: slot 0 version 1.2.0 hash=0123456789abcdef0123456789abcdef active");
    const b = note("image list: slot 0 version 1.2.0 hash=fedcba9876543210fedcba9876543210 active");
    expect(same(seg("smp", a), seg("smp", b))).to.equal(true);
    expect(
      same(
        seg("smp", a),
        seg("smp", note("image list: slot 1 version 1.2.0 hash=0123456789abcdef0123456789abcdef active")),
      ),
    ).to.equal(false);
  });
});
