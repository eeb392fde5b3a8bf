/**
 * Calibration proven on the lab path, as a lab runs it: the lab board is `hil emulate
 * stm32l432 --usbip` paced in wall time with erase and program times unlike the datasheet's
 * (standing in for a real L432 whose flash is its own), reached over USB/IP. `hil run` times
 * its 256 KB update, `hil report` puts the night into the history, `hil calibrate` makes the
 * overlay, and an emulated board loading it from a rig file takes, in virtual device time,
 * within 5 % of the lab board's wall time for the same update. The same board without the
 * overlay (the datasheet's figures) is far off, so the comparison can fail.
 */
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import { execa } from "execa";
import { startUsbipEmulator } from "../../harness/expose/usbip-process.js";
import type { TimingLine } from "../../harness/mocha/timing-hooks.js";
import { HIL_HISTORY_FILE } from "../../harness/report/night-history.js";
import { projectRoot } from "../../harness/rig/load.js";

const UPDATE = "updates a 256 KB image in one download";

/**
 * The lab board's flash: a worn erase (45 ms a page, the profile's is 22) and a faster
 * program (0.03 ms a double word, the profile's 0.082). Slower overall than the datasheet,
 * so a loaded machine's late timers only take the lab board further from it.
 */
const LAB_FLASH = ["timing.pageEraseMs=45", "timing.doubleWordProgramMs=0.03"];

describe("hil calibrate from a timed lab-path run (hil emulate stm32l432 --usbip)", function () {
  this.timeout(300_000);
  let scratch: string;
  beforeEach(async () => {
    scratch = await mkdtemp(join(tmpdir(), "hil-calibrate-lab-"));
  });
  afterEach(async () => {
    await rm(scratch, { recursive: true, force: true });
  });

  const hil = (args: string[], reports: string) =>
    execa(process.execPath, ["bin/hil.js", ...args], {
      cwd: projectRoot(),
      reject: false,
      timeout: 200_000,
      env: {
        HIL_LEASE_DIR: join(scratch, "leases"),
        HIL_RESULTS_DIR: join(reports, "allure-results"),
        HIL_REPRO_DIR: join(reports, "repro"),
        HIL_TIMING_SAMPLES: join(reports, "timing-samples.jsonl"),
        NO_COLOR: "1",
      },
    });

  /** `hil run` of the 256 KB update on `rig`; the update's timing line on `board`. */
  async function timedUpdate(rig: string[], board: string, reports: string): Promise<TimingLine> {
    const rigFile = join(scratch, `${board}.yaml`);
    await writeFile(rigFile, [...rig, ""].join("\n"));
    const run = await hil(["run", "--rig", rigFile, "--grep", UPDATE], reports);
    expect(run.exitCode, run.stdout + run.stderr).to.equal(0);
    expect(run.stdout).to.match(/^1 passed, 0 failed, 0 skipped$/m);
    const lines = (await readFile(join(reports, "timing-samples.jsonl"), "utf8"))
      .split("\n")
      .filter(Boolean)
      .map((l) => JSON.parse(l) as TimingLine);
    const update = lines.find((l) => l.board === board && l.op === "DFU download" && l.units === 256);
    expect(update, `no 256 KB download timed on ${board}`).to.not.equal(undefined);
    return update as TimingLine;
  }

  it("a 256 KB update on the calibrated emulated board takes the lab board's time within 5 %", async () => {
    const labReports = join(scratch, "lab-reports");
    const emu = await startUsbipEmulator(
      "stm32l432",
      LAB_FLASH.flatMap((o) => ["--option", o]),
      { log: false },
    );
    let lab: TimingLine;
    try {
      lab = await timedUpdate(
        [
          "name: lab",
          "boards:",
          "  - id: lab-l432",
          "    family: stm32l432",
          "    capabilities: [usb-dfu]",
          `    usb: { usbip: "${emu.host}:${emu.port}", busid: "${emu.busid}" }`,
          `    power: { backend: command, cutsPower: true, off: "kill -USR1 ${emu.pid}", on: "kill -USR2 ${emu.pid}" }`,
          "    timeouts: { enumerateMs: 5000, settleMs: 20, powerOffMs: 300 }",
        ],
        "lab-l432",
        labReports,
      );
    } finally {
      await emu.stop();
    }
    expect(lab.emulated).to.equal(false);

    const report = await hil(
      ["report", "--results", join(labReports, "allure-results"), "--out", labReports, "--no-allure"],
      labReports,
    );
    expect(report.exitCode, report.stderr).to.equal(0);
    const overlay = join(scratch, "lab-l432.calibration.json");
    const calibrate = await hil(
      ["calibrate", "--history", join(labReports, HIL_HISTORY_FILE), "--board", "lab-l432", "--out", overlay],
      labReports,
    );
    expect(calibrate.exitCode, calibrate.stderr).to.equal(0);
    const written = JSON.parse(await readFile(overlay, "utf8"));
    // The lab board's own erase figure comes back (USB/IP's round trips ride on it).
    expect(written.timing.pageEraseMs).to.be.at.least(45);
    expect(written.sources.pageEraseMs).to.include(
      'median of "page erase" per unit on lab-l432 over 1 nights',
    );

    const emulatedRig = (emulated: string) => [
      "name: calibrated",
      "boards:",
      "  - id: l432-cal",
      "    family: stm32l432",
      "    capabilities: [usb-dfu, inspect]",
      `    emulated: ${emulated}`,
    ];
    const calibrated = await timedUpdate(
      emulatedRig("{ calibration: lab-l432.calibration.json }"),
      "l432-cal",
      join(scratch, "calibrated-reports"),
    );
    expect(calibrated.emulated).to.equal(true);
    expect(
      calibrated.ms / lab.ms,
      `calibrated ${calibrated.ms.toFixed(0)} ms of device time, lab ${lab.ms.toFixed(0)} ms of wall time`,
    ).to.be.within(0.95, 1.05);

    // The datasheet's figures are not this board's: without the overlay the time is off.
    const plain = await timedUpdate(emulatedRig("{}"), "l432-cal", join(scratch, "plain-reports"));
    expect(
      plain.ms / lab.ms,
      `uncalibrated ${plain.ms.toFixed(0)} ms of device time, lab ${lab.ms.toFixed(0)} ms`,
    ).to.be.below(0.85);
  });
});
