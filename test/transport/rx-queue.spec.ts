/**
 * RxQueue's timeouts on wall time: one armed sleep serves consecutive reads, and every
 * read still times out at its own deadline. ManualClock stands in for the wall clock
 * (same kind, time moved by hand) so the deadlines are exact.
 */
import { expect } from "chai";
import type { Clock } from "../../harness/transport/clock.js";
import { ReadTimeoutError, StreamClosedError } from "../../harness/transport/errors.js";
import { RxQueue } from "../../harness/transport/rx-queue.js";
import { ManualClock, rejectionOf, settle } from "./helpers.js";

/** ManualClock's time under the wall clock's kind. */
function wallKind(manual: ManualClock): Clock {
  return { kind: "wall", now: () => manual.now(), sleep: (ms, signal) => manual.sleep(ms, signal) };
}

const bytes = (...values: number[]) => Uint8Array.from(values);

/** Settles `promise` into a flag, so a test can check it has not settled yet. */
function track(promise: Promise<unknown>): { settled: boolean; error?: Error } {
  const state: { settled: boolean; error?: Error } = { settled: false };
  promise.then(
    () => {
      state.settled = true;
    },
    (error: Error) => {
      state.settled = true;
      state.error = error;
    },
  );
  return state;
}

describe("transport/rx-queue timeouts on wall time", () => {
  it("keeps the sleep of a served read for the next read of the same turn, and drops it once idle", async () => {
    const clock = new ManualClock();
    const rx = new RxQueue("test", wallKind(clock));
    const first = rx.read(1, 500);
    rx.push(bytes(0x79));
    expect(await first).to.deep.equal(bytes(0x79));
    const second = rx.read(1, 500);
    expect(clock.pendingTimers, "the first read's sleep serves the second").to.equal(1);
    rx.push(bytes(0x1f));
    expect(await second).to.deep.equal(bytes(0x1f));
    await settle();
    expect(clock.pendingTimers, "no read pending: the sleep is gone").to.equal(0);
  });

  it("times a longer read out at its own deadline, not at the earlier read's", async () => {
    const clock = new ManualClock();
    const rx = new RxQueue("test", wallKind(clock));
    const first = rx.read(1, 100);
    rx.push(bytes(0x79));
    await first;
    const second = track(rx.read(2, 300));
    await clock.advance(100);
    expect(second.settled, "still 200 ms to go").to.equal(false);
    rx.push(bytes(0xaa));
    await clock.advance(199);
    expect(second.settled).to.equal(false);
    await clock.advance(1);
    expect(second.error).to.be.instanceOf(ReadTimeoutError);
    const error = second.error as ReadTimeoutError;
    expect(error.timeoutMs).to.equal(300);
    expect(error.partial).to.deep.equal(bytes(0xaa));
  });

  it("times a shorter read out at its own deadline, before the earlier read's sleep would fire", async () => {
    const clock = new ManualClock();
    const rx = new RxQueue("test", wallKind(clock));
    const first = rx.read(1, 1000);
    rx.push(bytes(0x79));
    await first;
    const second = track(rx.read(1, 50));
    await clock.advance(49);
    expect(second.settled).to.equal(false);
    await clock.advance(1);
    expect(second.error).to.be.instanceOf(ReadTimeoutError);
    await settle();
    expect(clock.pendingTimers, "the replaced sleep is gone too").to.equal(0);
  });

  it("close() drops the armed sleep and fails the pending read at once", async () => {
    const clock = new ManualClock();
    const rx = new RxQueue("test", wallKind(clock));
    const pending = rejectionOf(rx.read(1, 10_000));
    rx.close(new StreamClosedError("test", { reason: "gone", disconnected: true }));
    expect(await pending).to.be.instanceOf(StreamClosedError);
    expect(clock.pendingTimers).to.equal(0);
  });
});
