/**
 * One guest run per `describe`: start `hil emulate <profile> --usbip` (its flash saved to a
 * state directory when asked), boot the QEMU guest with a script of steps, keep the console
 * and emulator logs under reports/interop/, and read the flash the emulator saved. Each
 * `it` then checks its step. Also what every interop test needs around it: the result's
 * labels, a skip with the reason where the guest cannot run, the console attached to every
 * result and the emulator log to a failed one.
 */
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as allure from "allure-js-commons";
import { startUsbipEmulator, type UsbipEmulatorProcess } from "../harness/expose/usbip-process.js";
import { type GuestRun, type GuestStep, guestUnavailable, ROOT, runGuest } from "./guest.js";
import { labelInteropResult } from "./result-labels.js";

export interface GuestScenarioOptions {
  /** Base name of the logs under reports/interop/ ("usbip-dfu-util"). */
  name: string;
  profile: "stm32l432kc" | "stm32wb55";
  /** The board and client as the results name them. */
  board: { id: string; family: string; client: string };
  /** Save the emulator's flash to a state directory and read it after the run. */
  keepFlash?: boolean;
  /** The guest's script and files, once the emulator listens on `port`. */
  guest: (port: number) => Promise<{ script: string; files?: Record<string, Uint8Array> }>;
  timeoutMs: number;
  memoryMb?: number;
  qemuArgs?: readonly string[];
}

export interface GuestScenario {
  readonly run: GuestRun | undefined;
  /** The emulator's flash after the run (empty without keepFlash). */
  readonly flash: Uint8Array;
  readonly emulatorLog: string;
  /** A step of the run. @throws naming the step and where the console log is, when it did not run. */
  step(name: string): GuestStep;
}

/** Registers the hooks of one guest run in the calling `describe`; read the outcome in `it`s. */
export function guestScenario(opts: GuestScenarioOptions): GuestScenario {
  let skipReason: string | undefined;
  let run: GuestRun | undefined;
  let emu: UsbipEmulatorProcess | undefined;
  let stateDir = "";
  let flash = new Uint8Array(0);
  let emulatorLog = "";

  before(async function () {
    this.timeout(900_000);
    skipReason = await guestUnavailable();
    if (skipReason) return;
    if (opts.keepFlash) stateDir = await mkdtemp(join(tmpdir(), "hil-interop-"));
    emu = await startUsbipEmulator(opts.profile, stateDir ? ["--state", stateDir] : []);
    const { script, files } = await opts.guest(emu.port);
    run = await runGuest({
      script,
      files: files ?? {},
      logFile: join(ROOT, "reports", "interop", `${opts.name}.console.log`),
      timeoutMs: opts.timeoutMs,
      ...(opts.memoryMb ? { memoryMb: opts.memoryMb } : {}),
      ...(opts.qemuArgs ? { qemuArgs: [...opts.qemuArgs] } : {}),
    });
    emulatorLog = emu.log();
    await writeFile(join(ROOT, "reports", "interop", `${opts.name}.emulator.log`), emulatorLog);
    // Stopping saves the flash to the state directory.
    await emu.stop();
    emu = undefined;
    if (stateDir) flash = new Uint8Array(await readFile(join(stateDir, "flash.bin")));
    if (!/HIL-GUEST-UP/.test(run.console))
      skipReason = `the QEMU guest did not boot (${run.timedOut ? "timed out" : `exit ${run.exit}`}): ${run.console.slice(-300)}`;
    console.log(`      guest run: ${(run.wallMs / 1000).toFixed(1)} s wall, console log ${run.logFile}`);
  });

  after(async () => {
    await emu?.stop();
    if (stateDir) await rm(stateDir, { recursive: true, force: true });
  });

  beforeEach(async function () {
    await labelInteropResult(this, opts.board);
    if (skipReason) {
      await allure.description(`Skipped: ${skipReason}.`);
      console.log(`      skipped: ${skipReason}`);
      this.skip();
    }
  });

  afterEach(async function () {
    if (!run) return;
    await allure.attachment("guest serial console", run.console, "text/plain");
    if (this.currentTest?.state === "failed")
      await allure.attachment("emulator log", emulatorLog, "text/plain");
  });

  return {
    get run() {
      return run;
    },
    get flash() {
      return flash;
    },
    get emulatorLog() {
      return emulatorLog;
    },
    step(name: string): GuestStep {
      const s = run?.steps.get(name);
      if (!s)
        throw new Error(
          `step ${name} did not run (guest exit ${run?.exit}, timed out ${run?.timedOut}); see ${run?.logFile}`,
        );
      return s;
    },
  };
}
