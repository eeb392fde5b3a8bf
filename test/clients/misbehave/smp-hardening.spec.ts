/**
 * The SMP client's fixes for what the misbehaving device found, each on the exchange that
 * showed it (these fail on the client as it was before).
 */
import { expect } from "chai";
import { SmpClient, SmpLinkClosedError, SmpReplyError } from "../../../harness/clients/smp/index.js";
import {
  decodeMessage,
  encodeMessage,
  encodeSerialFrame,
  SerialFrameDecoder,
  type SmpOp,
} from "../../../harness/protocol/smp/index.js";
import { VirtualClock } from "../../../harness/sim/virtual-clock.js";
import { createBytePair } from "../../../harness/transport/byte-pair.js";

/** A peer answering each request with the packet `answer` builds (header+body bytes), or nothing. */
function peer(answer: (n: number, req: ReturnType<typeof decodeMessage>) => Uint8Array | undefined) {
  const clock = new VirtualClock();
  const { host, device } = createBytePair({ clock });
  const dec = new SerialFrameDecoder();
  let n = 0;
  device.onData((bytes) => {
    for (const p of dec.push(bytes)) {
      const packet = answer(++n, decodeMessage(p));
      if (packet) void device.write(encodeSerialFrame(packet));
    }
  });
  return { clock, host, device, count: () => n };
}

const replyTo = (req: ReturnType<typeof decodeMessage>, body: Record<string, unknown>) =>
  encodeMessage({ header: { ...req.header, op: (req.header.op + 1) as SmpOp }, body });

describe("clients/smp hardening against a misbehaving device", () => {
  it("a reply to the request whose body is garbage CBOR is a SmpReplyError with the transcript", async () => {
    const p = peer((_, req) => {
      const head = replyTo(req, {}).subarray(0, 8);
      const garbage = Uint8Array.of(0xff, 0x1c, 0x00);
      const out = new Uint8Array(8 + garbage.length);
      out.set(head);
      out[3] = garbage.length;
      out.set(garbage, 8);
      return out;
    });
    const client = new SmpClient(p.host, p.clock, { timeoutMs: 500, retries: 0 });
    const err = await client.echo("x").catch((e: unknown) => e);
    expect(err).to.be.instanceOf(SmpReplyError);
    expect((err as SmpReplyError).transcript).to.equal(client.transcript);
    expect((err as Error).message).to.match(/^echo: malformed reply/);
  });

  it("an upload whose device never moves `off` forward ends with SmpReplyError after a few requests", async () => {
    // Answers off 0 to the first 50 requests, then nothing (the old client would resend for ever).
    const p = peer((n, req) => (n <= 50 ? replyTo(req, { rc: 0, off: 0 }) : undefined));
    const client = new SmpClient(p.host, p.clock, { timeoutMs: 500, retries: 2 });
    const err = await client.upload(new Uint8Array(1000)).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(SmpReplyError);
    expect((err as Error).message).to.match(/no progress/);
    expect(p.count()).to.equal(4);
  });

  it("a link that closed under the client is SmpLinkClosedError (the lab's), with the transcript", async () => {
    const p = peer(() => undefined);
    const client = new SmpClient(p.host, p.clock, { timeoutMs: 500, retries: 0 });
    await p.device.close();
    const err = await client.echo("x").catch((e: unknown) => e);
    expect(err).to.be.instanceOf(SmpLinkClosedError).with.property("category", "infrastructure");
    expect((err as SmpLinkClosedError).transcript).to.equal(client.transcript);
  });
});
