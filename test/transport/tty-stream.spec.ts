/** openPty against real kernel ptys joined back to back by socat (as serial-port.spec.ts does). */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { existsSync, readdirSync, readlinkSync } from "node:fs";
import { expect } from "chai";
import { WallClock } from "../../harness/transport/clock.js";
import { StreamClosedError } from "../../harness/transport/errors.js";
import { openPty, type PtyStream } from "../../harness/transport/tty-stream.js";
import { rejectionOf } from "./helpers.js";

const clock = new WallClock();

describe("transport/tty-stream (pty via socat)", function () {
  this.timeout(15_000);
  const links = [`/tmp/update-hil-tty-${process.pid}-a`, `/tmp/update-hil-tty-${process.pid}-b`] as const;
  let socat: ChildProcess | undefined;
  let a: PtyStream | undefined;
  let b: PtyStream | undefined;
  let fdsBeforeOpen = 0;

  before(async function () {
    if (spawnSync("which", ["socat"]).status !== 0) this.skip();
    socat = spawn(
      "socat",
      links.map((l) => `pty,raw,echo=0,link=${l}`),
      { stdio: "ignore" },
    );
    const deadline = clock.now() + 5000;
    while (!links.every((l) => existsSync(l))) {
      if (clock.now() > deadline) throw new Error("socat did not create the ptys");
      await clock.sleep(20);
    }
    fdsBeforeOpen = openFds();
    a = openPty(links[0], { clock });
    b = openPty(links[1], { clock });
  });

  after(async () => {
    if (socat && socat.exitCode === null) socat.kill("SIGKILL");
    await a?.close();
    await b?.close();
  });

  it("refuses a path that is not a pty, naming it", () => {
    expect(() => openPty("/dev/null")).to.throw(/^cannot open pty \/dev\/null: not a pty/);
  });

  it("carries every byte value both ways in raw mode", async () => {
    const all = Uint8Array.from({ length: 256 }, (_, i) => i);
    await a!.write(all);
    expect(await b!.read(256, { timeoutMs: 2000 })).to.deep.equal(all);
    await b!.write(Uint8Array.of(0x79, 0x1f, 0x7f));
    expect(await a!.read(3, { timeoutMs: 2000 })).to.deep.equal(Uint8Array.of(0x79, 0x1f, 0x7f));
  });

  it("fails a pending read promptly when the pty vanishes", async () => {
    const pending = rejectionOf(a!.read(1, { timeoutMs: 10_000 }));
    const started = clock.now();
    socat!.kill("SIGTERM");
    const error = await pending;
    expect(error).to.be.instanceOf(StreamClosedError);
    expect(clock.now() - started).to.be.below(5000);
    // The other end's writes go straight to its fd: a vanished pty fails them too, once the
    // kernel has hung that side up as well (on a loaded machine a moment after the first).
    expect(await firstRejectedWrite(b!, 2000)).to.be.instanceOf(StreamClosedError);
    // Gone or not, close() gives back every fd the streams opened.
    await a!.close();
    await b!.close();
    await clock.sleep(20); // the read handles close on the next loop turn
    expect(openFds()).to.equal(fdsBeforeOpen);
  });
});

/** Writes one byte every 10 ms until a write fails (its error) or `withinMs` passes (undefined). */
async function firstRejectedWrite(stream: PtyStream, withinMs: number): Promise<unknown> {
  const deadline = clock.now() + withinMs;
  while (clock.now() < deadline) {
    const error = await stream.write(Uint8Array.of(1)).then(
      () => undefined,
      (e: unknown) => e,
    );
    if (error !== undefined) return error;
    await clock.sleep(10);
  }
  return undefined;
}

/** Fds on a pty: what a PtyStream opens (other fds come and go with the test runner). */
function openFds(): number {
  return readdirSync("/proc/self/fd").filter((fd) => {
    try {
      return readlinkSync(`/proc/self/fd/${fd}`).startsWith("/dev/pts/");
    } catch {
      return false; // closed while listing (the listing's own fd)
    }
  }).length;
}
