/**
 * A wait of the harness's own lab side (socat making a pty, an emulator process printing
 * "ready") that runs out is the lab's failure, never the firmware's: no device was asked
 * anything yet. A client's wait for a device's answer stays the device's.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import { servePty } from "../../harness/expose/uart-pty.js";
import { classifyError } from "../../harness/report/categories.js";
import type { Clock } from "../../harness/seams/clock.js";
import { VirtualClock } from "../../harness/sim/virtual-clock.js";
import { SetupTimeoutError, TimeoutError, withTimeout } from "../../harness/transport/clock.js";

describe("transport: setup timeouts are the lab's", () => {
  it("withTimeout with `setup` raises SetupTimeoutError, filed as infrastructure", async () => {
    const clock = new VirtualClock();
    const never = new Promise<never>(() => {});
    const setup = withTimeout(clock, 100, "a server to listen", never, { setup: true });
    const device = withTimeout(clock, 100, "the device's ACK", never);
    const [s, d] = await Promise.all([setup.catch((e: unknown) => e), device.catch((e: unknown) => e)]);
    expect(s).to.be.instanceOf(SetupTimeoutError).and.instanceOf(TimeoutError);
    expect((s as Error).message).to.equal("timed out after 100 ms waiting for a server to listen");
    expect(classifyError(s)).to.equal("infrastructure");
    expect(d).to.not.be.instanceOf(SetupTimeoutError);
    expect(classifyError(d)).to.equal("firmware-device");
  });

  it("socat that does not make its pty in time: SetupTimeoutError naming the link", async function () {
    if (spawnSync("which", ["socat"]).status !== 0) this.skip(); // apt-get install -y socat
    const dir = mkdtempSync(join(tmpdir(), "hil-setup-"));
    try {
      const link = join(dir, "tty");
      // A clock whose wait has run out before socat can say anything, however loaded the
      // machine: a 0 ms wall timer still races socat's first line.
      const spent: Clock = { kind: "wall", now: () => Date.now(), sleep: () => Promise.resolve() };
      const err = await servePty(link, spent, { startMs: 0 }).catch((e: unknown) => e);
      expect(err).to.be.instanceOf(SetupTimeoutError);
      expect((err as Error).message).to.include(`socat to create ${link}`);
      expect(classifyError(err)).to.equal("infrastructure");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
