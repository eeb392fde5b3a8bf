import { expect } from "chai";
import fc from "fast-check";
import { createBytePair } from "../../harness/transport/byte-stream.js";
import { TimeoutError, WallClock } from "../../harness/transport/clock.js";
import { ReadTimeoutError, StreamClosedError } from "../../harness/transport/errors.js";
import { ManualClock, rejectionOf, settle } from "./helpers.js";

const bytes = (...values: number[]) => Uint8Array.from(values);

describe("transport/byte-pair", () => {
  describe("data", () => {
    it("delivers host writes to the device and device writes to the host, in order", async () => {
      const { host, device } = createBytePair();
      await host.write(bytes(1, 2));
      await host.write(bytes(3));
      await device.write(bytes(0x79));
      expect(await device.read(3, { timeoutMs: 100 })).to.deep.equal(bytes(1, 2, 3));
      expect(await host.read(1, { timeoutMs: 100 })).to.deep.equal(bytes(0x79));
    });

    it("reads exactly n bytes and keeps the rest for the next read", async () => {
      const { host, device } = createBytePair();
      await device.write(bytes(1, 2, 3, 4, 5));
      expect(await host.read(3, { timeoutMs: 100 })).to.deep.equal(bytes(1, 2, 3));
      expect(await host.read(2, { timeoutMs: 100 })).to.deep.equal(bytes(4, 5));
      expect(await host.read(0, { timeoutMs: 0 })).to.deep.equal(bytes());
    });

    it("waits for bytes that arrive in several chunks after the read started", async () => {
      const clock = new ManualClock();
      const { host, device } = createBytePair({ clock });
      const read = host.read(4, { timeoutMs: 1000 });
      await device.write(bytes(1));
      await device.write(bytes(2, 3, 4, 5));
      expect(await read).to.deep.equal(bytes(1, 2, 3, 4));
      expect(host.readAvailable()).to.deep.equal(bytes(5));
      expect(clock.pendingTimers, "a served read leaves no timer").to.equal(0);
    });

    it("copies written bytes, so a caller reusing its buffer cannot change them", async () => {
      const { host, device } = createBytePair();
      const buffer = bytes(1, 2);
      await host.write(buffer);
      buffer[0] = 0xff;
      expect(await device.read(2, { timeoutMs: 100 })).to.deep.equal(bytes(1, 2));
    });

    it("keeps the byte sequence whatever the write and read chunking (property)", async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.array(fc.uint8Array({ minLength: 0, maxLength: 40 }), { maxLength: 12 }),
          fc.array(fc.integer({ min: 1, max: 30 }), { minLength: 1, maxLength: 20 }),
          async (writes, readSizes) => {
            const { host, device } = createBytePair();
            const sent = Uint8Array.from(writes.flatMap((w) => [...w]));
            for (const w of writes) await host.write(w);
            const received: number[] = [];
            for (let i = 0; received.length < sent.length; i++) {
              const n = Math.min(readSizes[i % readSizes.length]!, sent.length - received.length);
              received.push(...(await device.read(n, { timeoutMs: 100 })));
            }
            expect(Uint8Array.from(received)).to.deep.equal(sent);
            expect(device.readAvailable()).to.have.length(0);
          },
        ),
        { numRuns: 60 },
      );
    });

    it("flush() discards pending input", async () => {
      const { host, device } = createBytePair();
      await device.write(bytes(1, 2, 3));
      await host.flush();
      expect(host.readAvailable()).to.have.length(0);
      await device.write(bytes(4));
      expect(await host.read(1, { timeoutMs: 100 })).to.deep.equal(bytes(4));
    });

    it("refuses overlapping reads and bad arguments", async () => {
      const { host } = createBytePair({ clock: new ManualClock() });
      void host.read(1, { timeoutMs: 10 }).catch(() => {});
      expect((await rejectionOf(host.read(1, { timeoutMs: 10 }))).message).to.match(/overlapping read/);
      expect(await rejectionOf(host.read(-1, { timeoutMs: 10 }))).to.be.instanceOf(RangeError);
      expect(await rejectionOf(host.read(1.5, { timeoutMs: 10 }))).to.be.instanceOf(RangeError);
      expect(await rejectionOf(host.read(1, { timeoutMs: Number.NaN }))).to.be.instanceOf(RangeError);
    });
  });

  describe("timeouts", () => {
    it("rejects after timeoutMs of clock time with a TimeoutError carrying the partial bytes", async () => {
      const clock = new ManualClock();
      const { host, device } = createBytePair({ clock });
      let settled = false;
      const read = rejectionOf(
        host.read(4, { timeoutMs: 100 }).finally(() => {
          settled = true;
        }),
      );
      await device.write(bytes(0xaa, 0xbb));
      await clock.advance(99);
      expect(settled, "still waiting at 99 ms").to.equal(false);
      await clock.advance(1);
      const error = await read;
      expect(error).to.be.instanceOf(ReadTimeoutError).and.instanceOf(TimeoutError);
      const timeout = error as ReadTimeoutError;
      expect(timeout.partial).to.deep.equal(bytes(0xaa, 0xbb));
      expect(timeout.wanted).to.equal(4);
      expect(timeout.timeoutMs).to.equal(100);
      expect(timeout.message).to.equal("timed out after 100 ms waiting for 4 bytes from pair:host (got 2)");
    });

    it("consumes the partial bytes: the next read sees only what came after", async () => {
      const clock = new ManualClock();
      const { host, device } = createBytePair({ clock });
      const read = rejectionOf(host.read(3, { timeoutMs: 10 }));
      await device.write(bytes(1));
      await clock.advance(10);
      expect(((await read) as ReadTimeoutError).partial).to.deep.equal(bytes(1));
      await device.write(bytes(2, 3, 4));
      expect(await host.read(3, { timeoutMs: 10 })).to.deep.equal(bytes(2, 3, 4));
    });

    it("times out with empty partial bytes when nothing arrived, even with timeoutMs 0", async () => {
      const clock = new ManualClock();
      const { host } = createBytePair({ clock });
      const read = rejectionOf(host.read(1, { timeoutMs: 0 }));
      await clock.advance(0);
      const error = (await read) as ReadTimeoutError;
      expect(error).to.be.instanceOf(ReadTimeoutError);
      expect(error.partial).to.have.length(0);
    });
  });

  describe("close", () => {
    it("rejects a pending read at once with StreamClosedError, long before its timeout", async () => {
      const clock = new WallClock();
      const { host, device } = createBytePair({ clock });
      const started = clock.now();
      const read = rejectionOf(host.read(8, { timeoutMs: 10_000 }));
      await device.write(bytes(1, 2));
      await settle();
      await device.close();
      const error = (await read) as StreamClosedError;
      expect(clock.now() - started).to.be.below(1000);
      expect(error).to.be.instanceOf(StreamClosedError);
      expect(error.disconnected, "the host did not close it").to.equal(true);
      expect(error.partial).to.deep.equal(bytes(1, 2));
      expect(error.message).to.equal("pair:host closed: peer pair:device closed");
    });

    it("closes both ends; reads, writes and signals after close reject", async () => {
      const { host, device } = createBytePair();
      const seen: string[] = [];
      host.onClose((reason) => seen.push(`host ${reason.disconnected}`));
      device.onClose((reason) => seen.push(`device ${reason.disconnected}`));
      await host.close();
      await host.close(); // idempotent
      expect(host.closed && device.closed).to.equal(true);
      expect(seen).to.deep.equal(["host false", "device true"]);
      expect(await rejectionOf(host.read(1, { timeoutMs: 10 }))).to.be.instanceOf(StreamClosedError);
      expect(await rejectionOf(device.read(1, { timeoutMs: 10 }))).to.be.instanceOf(StreamClosedError);
      expect(await rejectionOf(host.write(bytes(1)))).to.be.instanceOf(StreamClosedError);
      expect(await rejectionOf(device.write(bytes(1)))).to.be.instanceOf(StreamClosedError);
      expect(await rejectionOf(host.setSignals({ dtr: false }))).to.be.instanceOf(StreamClosedError);
      expect(() => host.readAvailable()).to.throw(StreamClosedError);
    });

    it("hands bytes left in the buffer to the first read after close, in its error", async () => {
      const { host, device } = createBytePair();
      await device.write(bytes(7, 8));
      await device.close();
      const error = (await rejectionOf(host.read(4, { timeoutMs: 10 }))) as StreamClosedError;
      expect(error.partial).to.deep.equal(bytes(7, 8));
    });

    it("tells onClose listeners that subscribe after the close", async () => {
      const { host } = createBytePair();
      await host.close();
      const reason = await new Promise<StreamClosedError>((resolve) => host.onClose(resolve));
      expect(reason.reason).to.equal("closed");
    });
  });

  describe("device end (emulators)", () => {
    it("pushes incoming bytes to onData listeners without polling, in order", async () => {
      const { host, device } = createBytePair();
      const chunks: number[][] = [];
      const unsubscribe = device.onData((chunk) => chunks.push([...chunk]));
      await host.write(bytes(1, 2));
      await host.write(bytes(3));
      await settle();
      expect(chunks).to.deep.equal([[1, 2], [3]]);
      unsubscribe();
      await host.write(bytes(4));
      expect(await device.read(1, { timeoutMs: 10 }), "buffered again once unsubscribed").to.deep.equal(
        bytes(4),
      );
    });

    it("delivers input buffered before the first listener, and refuses read() while listeners consume", async () => {
      const { host, device } = createBytePair();
      await host.write(bytes(9));
      const chunks: number[][] = [];
      device.onData((chunk) => chunks.push([...chunk]));
      expect((await rejectionOf(device.read(1, { timeoutMs: 10 }))).message).to.match(/onData/);
      await settle();
      expect(chunks).to.deep.equal([[9]]);
    });

    it("lets an emulator answer from its listener", async () => {
      const { host, device } = createBytePair();
      device.onData((chunk) => void device.write(chunk[0] === 0x7f ? bytes(0x79) : bytes(0x1f)));
      await host.write(bytes(0x7f));
      expect(await host.read(1, { timeoutMs: 100 })).to.deep.equal(bytes(0x79));
    });

    it("shows the host's DTR/RTS, starting asserted, and reports changes only", async () => {
      const { host, device } = createBytePair();
      expect(device.signals).to.deep.equal({ dtr: true, rts: true });
      const changes: object[] = [];
      device.onSignals((s) => changes.push(s));
      await host.setSignals({ dtr: false });
      await host.setSignals({ dtr: false });
      await host.setSignals({ rts: false });
      expect(device.signals).to.deep.equal({ dtr: false, rts: false });
      expect(changes).to.deep.equal([
        { dtr: false, rts: true },
        { dtr: false, rts: false },
      ]);
    });
  });
});
