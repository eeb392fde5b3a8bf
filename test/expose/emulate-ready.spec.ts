/**
 * What a script does with `hil emulate`: start it and act on the `ready` line at once
 * (stm32flash PATH, usbip attach). Each profile is started several times in a row and used
 * the moment the line appears: PATH must be there when the line arrives (startEmulator looks
 * synchronously), open, and the emulator answer; the USB/IP export must take an
 * OP_REQ_IMPORT. servePty, which the pty `ready` waits for, is checked the same way many
 * more times in-process, where a start costs a socat and not a Node process.
 */
import { spawnSync } from "node:child_process";
import { lstatSync, mkdtempSync, readlinkSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import { startEmulator } from "../../harness/expose/emulator-process.js";
import { servePty } from "../../harness/expose/uart-pty.js";
import { startUsbipEmulator } from "../../harness/expose/usbip-process.js";
import { WallClock } from "../../harness/transport/clock.js";
import { openSerialPort } from "../../harness/transport/serial-port-stream.js";
import { UsbipImport } from "../../harness/transport/usbip-client.js";
import { hello, PTY_PROFILES } from "./protocol-hello.js";

/** `hil emulate --uart-pty` starts per profile (each costs a Node start, ~0.7 s of CPU). */
const CLI_STARTS = 8;
/** `hil emulate --usbip` starts per profile: most of one is the ROM's USB connect time, idle. */
const USBIP_STARTS = 6;
/** servePty starts in-process. */
const PTY_STARTS = 20;

/** Runs `start(i)` for i in 0..n-1, `parallel` at a time; every failure is collected, not just the first. */
async function startsInARow(
  n: number,
  parallel: number,
  start: (i: number) => Promise<void>,
): Promise<string[]> {
  const failures: string[] = [];
  let next = 0;
  const lane = async () => {
    while (next < n) {
      const i = next++;
      await start(i).catch((e: Error) => failures.push(`start ${i + 1}: ${e.message}`));
    }
  };
  await Promise.all(Array.from({ length: parallel }, lane));
  return failures;
}

/** `stop()` first, then `check` (an exit code other than 0 is a failure too). */
async function thenStop(
  work: () => Promise<void>,
  stop: () => Promise<{ exitCode: number | undefined }>,
  log: () => string,
): Promise<void> {
  const failed = await work().then(
    () => undefined,
    (e: Error) => e,
  );
  const { exitCode } = await stop();
  if (failed) throw failed;
  if (exitCode !== 0) throw new Error(`exit code ${exitCode}: ${log()}`);
}

describe("hil emulate: `ready` is printed when the promise holds", function () {
  this.timeout(60_000);
  const clock = new WallClock();
  let dir: string;

  before(function () {
    if (spawnSync("which", ["socat"]).status !== 0) this.skip(); // apt-get install -y socat
    dir = mkdtempSync(join(tmpdir(), "hil-ready-"));
  });
  after(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it(`servePty: when it resolves the link points to the pty and bytes cross both ways, ${PTY_STARTS} starts`, async () => {
    const failures = await startsInARow(PTY_STARTS, 1, async (i) => {
      const link = join(dir, `serve-${i}`);
      const bridge = await servePty(link, clock);
      try {
        // At once, before anything else runs: no await between the resolve and the look.
        const kind = lstatSync(link, { throwIfNoEntry: false });
        if (!kind?.isSymbolicLink()) throw new Error(`${link} is not there yet`);
        expect(readlinkSync(link)).to.equal(bridge.pty);
        const port = await openSerialPort(link, { baudRate: 115200, clock });
        try {
          const got = new Promise<Uint8Array>((resolve) => bridge.line.onData(resolve));
          await port.write(Uint8Array.of(0x7f));
          expect(Array.from(await got)).to.deep.equal([0x7f]);
          await bridge.line.write(Uint8Array.of(0x79));
          expect(Array.from(await port.read(1, { timeoutMs: 2000 }))).to.deep.equal([0x79]);
        } finally {
          await port.close();
        }
      } finally {
        await bridge.close();
      }
    });
    expect(failures, failures.join("\n")).to.be.empty;
  });

  for (const { profile, args } of PTY_PROFILES) {
    it(`${profile} --uart-pty: PATH is there when the line arrives, opens and the emulator answers, ${CLI_STARTS} starts`, async () => {
      // Two side by side: the machine has two cores, more only queues them.
      const failures = await startsInARow(CLI_STARTS, 2, async (i) => {
        const link = join(dir, `${profile}-${i}`);
        const emu = await startEmulator(profile, link, args(), { log: false });
        await thenStop(
          async () => {
            await hello(profile, link);
          },
          emu.stop,
          emu.log,
        );
      });
      expect(failures, failures.join("\n")).to.be.empty;
    });
  }

  for (const profile of ["stm32l432kc", "stm32wb55"]) {
    it(`${profile} --usbip: an OP_REQ_IMPORT right after the line succeeds, ${USBIP_STARTS} starts`, async () => {
      const failures = await startsInARow(USBIP_STARTS, 3, async () => {
        const emu = await startUsbipEmulator(profile, [], { log: false });
        await thenStop(
          async () => {
            const imp = await UsbipImport.attach(emu.busid, { port: emu.port, timeoutMs: 2000 });
            try {
              const d = await imp.control({
                bmRequestType: 0x80,
                bRequest: 6,
                wValue: 0x0100,
                wIndex: 0,
                wLength: 18,
              });
              expect([d.status, d.actualLength], "GET_DESCRIPTOR(device)").to.deep.equal([0, 18]);
            } finally {
              await imp.close();
            }
          },
          emu.stop,
          emu.log,
        );
      });
      expect(failures, failures.join("\n")).to.be.empty;
    });
  }
});
