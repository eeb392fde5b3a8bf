/**
 * The client against a scripted device end: exact bytes on the wire, NACK/timeout/close
 * handling and refusal of bad arguments before anything is sent. The emulator tests
 * (test/devices/stm32-usart) cover the full command set end to end.
 */
import { expect } from "chai";
import {
  LinkClosedError,
  NackError,
  UnexpectedReplyError,
  UsartClient,
  UsartTimeoutError,
} from "../../../harness/clients/stm32-usart/index.js";
import { UsartCodecError } from "../../../harness/protocol/stm32-usart/index.js";
import { VirtualClock } from "../../../harness/sim/virtual-clock.js";
import { createBytePair } from "../../../harness/transport/byte-pair.js";
import { fromHex, toHex } from "../../../harness/transport/hex.js";
import { rejectionOf as rejection } from "../../transport/helpers.js";

/** Replies to complete request frames (hex of what the device received since the last match). */
function scripted(script: Record<string, string>) {
  const clock = new VirtualClock();
  const { host, device } = createBytePair({ clock });
  let buffer = "";
  device.onData((bytes) => {
    buffer += toHex(bytes);
    const reply = script[buffer];
    if (reply !== undefined) {
      buffer = "";
      if (reply) void device.write(fromHex(reply));
    }
  });
  const client = new UsartClient(host, { clock });
  const tx = () => client.transcript.entries.filter((e) => e.dir === "tx").map((e) => toHex(e.bytes!));
  return { clock, host, device, client, tx };
}

describe("clients/stm32-usart: UsartClient", () => {
  it("probes like stm32flash: 0x7F, Get Version, Get, Get ID (AN3155 §3)", async () => {
    const { client, tx } = scripted({
      "7f": "79",
      "01fe": "79310000" + "79",
      "00ff": "79" + "0b31" + "0001021121314463738292" + "79",
      "02fd": "79" + "010435" + "79",
    });
    const info = await client.probe();
    expect(info).to.deep.equal({
      version: 0x31,
      option1: 0,
      option2: 0,
      commands: [0x00, 0x01, 0x02, 0x11, 0x21, 0x31, 0x44, 0x63, 0x73, 0x82, 0x92],
      pid: 0x435,
    });
    expect(tx()).to.deep.equal(["7f", "01fe", "00ff", "02fd"]);
  });

  it("treats NACK to 0x7F as already synced, and sends a second 0x7F when the first gets no reply", async () => {
    const a = scripted({ "7f": "1f" });
    expect(await a.client.connect()).to.equal("nack");
    const b = scripted({ "7f7f": "1f" });
    expect(await b.client.connect()).to.equal("nack");
    expect(b.tx()).to.deep.equal(["7f", "7f"]);
    expect(b.clock.now()).to.be.at.least(500); // waited stm32flash's 500 ms for the first reply
  });

  it("counts an ACK to the second 0x7F as synced (the first was sent before the part listened); other bytes are refused", async () => {
    const late = scripted({ "7f7f": "79" });
    expect(await late.client.connect()).to.equal("ack");
    expect(late.tx()).to.deep.equal(["7f", "7f"]);
    expect(late.client.transcript.render()).to.include("ACK to the second 0x7F");
    const noise = scripted({ "7f7f": "00" });
    const err = await rejection(noise.client.connect());
    expect(err).to.be.instanceOf(UnexpectedReplyError);
    expect(err.message).to.include("got 0x00");
  });

  it("sends Read Memory as address MSB-first + XOR and N−1 + complement", async () => {
    const { client, tx } = scripted({ "11ee": "79", "0800010009": "79", "03fc": "79a1b2c3d4" });
    expect(await client.readMemory(0x08000100, 4)).to.deep.equal(Uint8Array.of(0xa1, 0xb2, 0xc3, 0xd4));
    expect(tx()).to.deep.equal(["11ee", "0800010009", "03fc"]);
  });

  it("pads a Write Memory block with 0xFF to a multiple of 4", async () => {
    const { client, tx } = scripted({ "31ce": "79", "0800000008": "79", "03aabbffff": "" });
    const pending = client.writeMemory(0x08000000, Uint8Array.of(0xaa, 0xbb));
    // The script never answers the data frame: the test only looks at the bytes sent.
    const err = await rejection(pending);
    expect(err).to.be.instanceOf(UsartTimeoutError);
    expect(tx()[2]).to.equal(`03aabbffff${(0x03 ^ 0xaa ^ 0xbb ^ 0xff ^ 0xff).toString(16).padStart(2, "0")}`);
  });

  it("writes a long image as 256-byte Write Memory blocks in order, the last one padded, with progress after each ACK", async () => {
    const data = Uint8Array.from({ length: 259 }, (_, i) => (i * 7 + 3) & 0xff);
    const hexOf = (bytes: number[]) => bytes.map((b) => b.toString(16).padStart(2, "0")).join("");
    const xorOf = (bytes: number[]) => bytes.reduce((x, b) => x ^ b, 0);
    const first = [0xff, ...data.subarray(0, 256)];
    const last = [0x03, ...data.subarray(256), 0xff];
    const firstFrame = hexOf([...first, xorOf(first)]);
    const lastFrame = hexOf([...last, xorOf(last)]);
    const { client, tx } = scripted({
      "31ce": "79",
      "0800000008": "79",
      [firstFrame]: "79",
      "0800010009": "79",
      [lastFrame]: "79",
    });
    const progress: string[] = [];
    client.events.on("block-written", (e) => {
      progress.push(
        `${e.index + 1}/${e.count} ${e.address.toString(16)}+${e.length} after ${tx().length} frames`,
      );
    });
    await client.write(0x08000000, data);
    expect(tx()).to.deep.equal(["31ce", "0800000008", firstFrame, "31ce", "0800010009", lastFrame]);
    expect(progress).to.deep.equal(["1/2 8000000+256 after 3 frames", "2/2 8000100+3 after 6 frames"]);
  });

  it("tells command listeners about each command before it goes out, and sends the same bytes without listeners", async () => {
    const script = { "11ee": "79", "0800010009": "79", "03fc": "79a1b2c3d4" };
    const heard = scripted(script);
    const seen: string[] = [];
    heard.client.events.on("command", (e) => {
      seen.push(`${e.name} after ${heard.tx().length} frames`);
    });
    await heard.client.readMemory(0x08000100, 4);
    expect(seen).to.deep.equal(["ReadMemory (0x11) after 0 frames"]);
    const quiet = scripted(script);
    await quiet.client.readMemory(0x08000100, 4);
    expect(quiet.tx()).to.deep.equal(heard.tx());
  });

  it("reports a NACK with its count (two under RDP) and the transcript", async () => {
    const { client } = scripted({ "11ee": "1f1f" });
    const err = (await rejection(client.readMemory(0x08000000, 16))) as NackError;
    expect(err).to.be.instanceOf(NackError);
    expect(err.nacks).to.equal(2);
    expect(err.operation).to.equal("Read Memory 0x08000000+16");
    expect(err.transcript.render()).to.include("11 ee");
  });

  it("times out on a silent device on the stream's clock, with the partial reply", async () => {
    const { client, clock } = scripted({ "00ff": "790b31" });
    const err = (await rejection(client.get())) as UsartTimeoutError;
    expect(err).to.be.instanceOf(UsartTimeoutError);
    expect(err.timeoutMs).to.equal(500);
    expect(clock.now()).to.be.at.least(500);
  });

  it("fails at once with LinkClosedError when the link goes away mid-operation", async () => {
    const { client, device, clock } = scripted({ "11ee": "79" });
    const pending = rejection(client.readMemory(0x08000000, 16));
    await new Promise((r) => setImmediate(r));
    await device.close();
    const err = await pending;
    expect(err).to.be.instanceOf(LinkClosedError);
    expect(clock.now()).to.be.below(500);
  });

  it("refuses bad arguments before sending a byte, naming the field", async () => {
    const { client, tx } = scripted({});
    for (const [call, field] of [
      [() => client.writeMemory(0x08000002, new Uint8Array(4)), "address"],
      [() => client.writeMemory(0x08000000, new Uint8Array(257)), "data"],
      [() => client.readMemory(0x08000000, 0), "count"],
      [() => client.readMemory(-1, 4), "address"],
      [() => client.getChecksum(0x08000000, 6), "length"],
      [() => client.erasePages([]), "pages"],
      [() => client.writeProtect([300]), "sectors[0]"],
    ] as Array<[() => Promise<unknown>, string]>) {
      const err = await rejection(Promise.resolve().then(call));
      expect(err, field).to.be.instanceOf(UsartCodecError);
      expect((err as UsartCodecError).field).to.equal(field);
    }
    expect(tx()).to.deep.equal([]);
  });
});
