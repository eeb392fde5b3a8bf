import { expect } from "chai";
import { type Clock, cancellableSleep } from "../../harness/seams/clock.js";
import { VirtualClock } from "../../harness/sim/virtual-clock.js";
import { TimeoutError, WallClock, withTimeout } from "../../harness/transport/clock.js";

describe("sim/VirtualClock", () => {
  it("advances instantly to each due timer and reports device time", async () => {
    const clock = new VirtualClock();
    const wallStart = performance.now();
    await clock.sleep(40_000);
    expect(clock.now()).to.equal(40_000);
    expect(performance.now() - wallStart).to.be.below(1000);
  });

  it("fires timers in (due time, order set) order, deterministically", async () => {
    const clock = new VirtualClock();
    const order: string[] = [];
    await Promise.all([
      clock.sleep(30).then(() => order.push(`a@${clock.now()}`)),
      clock.sleep(10).then(() => order.push(`b@${clock.now()}`)),
      clock.sleep(10).then(() => order.push(`c@${clock.now()}`)),
      clock.sleep(0).then(() => order.push(`d@${clock.now()}`)),
    ]);
    expect(order).to.deep.equal(["d@0", "b@10", "c@10", "a@30"]);
  });

  it("lets promise work settle before jumping, so a reply beats a timeout set earlier", async () => {
    const clock = new VirtualClock();
    const reply = (async () => {
      await clock.sleep(5);
      await Promise.resolve();
      await new Promise<void>((r) => setImmediate(r));
      return "reply";
    })();
    expect(await withTimeout(clock, 6, "reply", reply)).to.equal("reply");
    expect(clock.now()).to.equal(5);
  });

  it("fires timers due at the same instant one at a time, each after the immediates the previous one's work set", async () => {
    const clock = new VirtualClock();
    const order: string[] = [];
    await Promise.all([
      clock.sleep(10).then(async () => {
        order.push("a");
        await new Promise<void>((r) => setImmediate(r));
        order.push("a's immediate");
      }),
      clock.sleep(10).then(() => order.push("b")),
    ]);
    expect(order).to.deep.equal(["a", "a's immediate", "b"]);
    expect(clock.now()).to.equal(10);
  });

  it("lets immediates set before a sleep run before it fires", async () => {
    const clock = new VirtualClock();
    const order: string[] = [];
    setImmediate(() => order.push("immediate"));
    await clock.sleep(0).then(() => order.push("timer"));
    expect(order).to.deep.equal(["immediate", "timer"]);
  });

  it("withTimeout raises TimeoutError naming what was awaited, and leaves no timer behind", async () => {
    const clock = new VirtualClock();
    const never = new Promise<never>(() => {});
    const err = await withTimeout(clock, 250, "DFU GETSTATUS", never).catch((e) => e);
    expect(err).to.be.instanceOf(TimeoutError);
    expect(err.message).to.equal("timed out after 250 ms waiting for DFU GETSTATUS");
    expect(clock.now()).to.equal(250);
    await withTimeout(clock, 1000, "quick", Promise.resolve(1));
    expect(clock.pending).to.equal(0);
  });

  it("an aborted sleep resolves early without moving time", async () => {
    const clock = new VirtualClock();
    const ac = new AbortController();
    const s = clock.sleep(1000, ac.signal);
    ac.abort();
    await s;
    expect(clock.now()).to.equal(0);
    expect(clock.pending).to.equal(0);
  });

  it("a cancelled timer resolves early without moving time, as an aborted sleep does; an uncancelled one fires in order", async () => {
    const clock = new VirtualClock();
    const cancelled = clock.timer(1000);
    const order: string[] = [];
    const kept = clock.timer(20);
    const slept = clock.sleep(20);
    void kept.done.then(() => order.push(`timer@${clock.now()}`));
    void slept.then(() => order.push(`sleep@${clock.now()}`));
    expect(clock.pending).to.equal(3);
    cancelled.cancel();
    expect(clock.pending).to.equal(2);
    await cancelled.done;
    expect(clock.now()).to.equal(0);
    await Promise.all([kept.done, slept]);
    // Same instant: in the order they were set, like any two sleeps.
    expect(order).to.deep.equal(["timer@20", "sleep@20"]);
    kept.cancel(); // after it fired: nothing happens
    expect(clock.pending).to.equal(0);
    expect(() => clock.timer(-1)).to.throw(RangeError);
  });

  it("cancellableSleep falls back to sleep and an AbortController on a clock without timer()", async () => {
    const clock = new VirtualClock();
    const plain: Clock = {
      kind: "virtual",
      now: () => clock.now(),
      sleep: (ms, signal) => clock.sleep(ms, signal),
    };
    const s = cancellableSleep(plain, 500);
    expect(clock.pending).to.equal(1);
    s.cancel();
    await s.done;
    expect(clock.pending).to.equal(0);
    expect(clock.now()).to.equal(0);
  });

  it("WallClock sleeps on real time and rejects negative waits", async () => {
    const clock = new WallClock();
    const t0 = clock.now();
    await clock.sleep(5);
    expect(clock.now() - t0).to.be.at.least(4);
    expect(() => clock.sleep(-1)).to.throw(RangeError);
  });
});
