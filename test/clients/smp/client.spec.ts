import { expect } from "chai";
import fc from "fast-check";
import { SmpClient, SmpError, SmpTimeoutError } from "../../../harness/clients/smp/index.js";
import {
  decodeMessage,
  encodeMessage,
  encodeSerialFrame,
  ImgMgmtErr,
  SerialFrameDecoder,
  SmpGroup,
  type SmpOp,
} from "../../../harness/protocol/smp/index.js";
import { VirtualClock } from "../../../harness/sim/virtual-clock.js";
import { createBytePair } from "../../../harness/transport/byte-pair.js";
import { app, board } from "../../devices/nrf52840/helpers.js";

/** A scripted peer: sees every request and answers (or not) as `answer` says. */
function peer(
  answer: (n: number, req: ReturnType<typeof decodeMessage>) => Record<string, unknown> | undefined,
) {
  const clock = new VirtualClock();
  const { host, device } = createBytePair({ clock });
  const dec = new SerialFrameDecoder();
  let n = 0;
  device.onData((bytes) => {
    for (const p of dec.push(bytes)) {
      const req = decodeMessage(p);
      const body = answer(++n, req);
      if (!body) continue;
      const h = { ...req.header, op: (req.header.op + 1) as SmpOp };
      void device.write(encodeSerialFrame(encodeMessage({ header: h, body })));
    }
  });
  return { clock, host, count: () => n };
}

describe("clients/smp: SmpClient", () => {
  it("times out on the stream's clock and resends a bounded number of times", async () => {
    const p = peer(() => undefined);
    const client = new SmpClient(p.host, p.clock, { timeoutMs: 1000, retries: 2 });
    const t0 = p.clock.now();
    const err = await client.echo("x").catch((e) => e);
    expect(err).to.be.instanceOf(SmpTimeoutError).and.include({ attempts: 3, timeoutMs: 1000 });
    expect(p.count()).to.equal(3);
    expect(p.clock.now() - t0).to.equal(3000);
  });

  it("reports requests, timeouts, responses and upload chunks as events", async () => {
    const p = peer((n, req) => (n === 1 ? undefined : { r: req.body.d }));
    const client = new SmpClient(p.host, p.clock, { timeoutMs: 500, retries: 1 });
    const kinds: string[] = [];
    const offs = [
      client.events.on("request", (e) => kinds.push(`request${e.attempt}`)),
      client.events.on("timeout", (e) => kinds.push(`timeout${e.attempt}`)),
      client.events.on("response", () => kinds.push("response")),
    ];
    await client.echo("x");
    for (const off of offs) off();
    await client.echo("y");
    expect(kinds).to.deep.equal(["request1", "timeout1", "request2", "response"]);
  });

  it("a resend that gets the answer succeeds; replies with another seq are ignored", async () => {
    const p = peer((n, req) => (n === 1 ? undefined : n === 2 ? { r: "late" } : { r: req.body.d }));
    const client = new SmpClient(p.host, p.clock, { timeoutMs: 500, retries: 1 });
    expect(await client.echo("hi")).to.equal("late");
  });

  it("decodes v2 group errors and v1 rc errors into SmpError with documented names", async () => {
    const p = peer((n) => (n === 1 ? { err: { group: 1, rc: 8 } } : { rc: 6, rsn: "busy" }));
    const client = new SmpClient(p.host, p.clock);
    const e1 = (await client.test(new Uint8Array(32)).catch((e) => e)) as SmpError;
    expect(e1)
      .to.be.instanceOf(SmpError)
      .and.include({ rc: ImgMgmtErr.HASH_NOT_FOUND, group: SmpGroup.IMAGE });
    expect(e1.rcName).to.equal("IMG_MGMT_ERR_HASH_NOT_FOUND (8)");
    const e2 = (await client.test(new Uint8Array(32)).catch((e) => e)) as SmpError;
    expect(e2.message).to.equal("image test: MGMT_ERR_EBADSTATE (6) (busy)");
    // The annotated transcript names each reply's rc on its request's line.
    const lines = client.transcript
      .renderAnnotated()
      .split("\n")
      .filter(Boolean)
      .map((l) => l.replace(/^ *[\d.]+ ms /, ""));
    expect(lines).to.have.length(2);
    expect(lines[0]).to.match(
      /^image test: seq 0 → write group 1 id 0 seq 0, .* → reply seq 0: IMG_MGMT_ERR_HASH_NOT_FOUND \(8\)$/,
    );
    expect(lines[1]).to.match(/ → reply seq 1: MGMT_ERR_EBADSTATE \(6\) \(busy\)$/);
  });

  it("an interrupted upload resumes from the device's offset when the same file is sent again (sha match)", async () => {
    const { dev, client } = await board(app("1.0.0", 4000));
    const v2 = app("2.0.0", 20000);
    let chunks = 0;
    const stop = new Error("host gave up");
    await client
      .upload(v2, {
        onProgress: () => {
          if (++chunks === 20) throw stop;
        },
      })
      .catch((e) => expect(e).to.equal(stop));
    const offs: number[] = [];
    await client.upload(v2, { onProgress: (p) => offs.push(p.off) });
    expect(offs[0], "first answer is the resume offset").to.be.above(19 * 300);
    expect(dev.secondary.read(0, v2.length)).to.deep.equal(v2);
  });

  it("uploads any image size within the device's buffer and lands it byte for byte (property)", async () => {
    const { dev, client } = await board(app("1.0.0", 1000));
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 3000 }), async (size) => {
        const img = app("2.0.0", size, undefined, size);
        await client.upload(img);
        expect(dev.secondary.read(0, img.length)).to.deep.equal(img);
      }),
      { numRuns: 8 },
    );
  });
});
