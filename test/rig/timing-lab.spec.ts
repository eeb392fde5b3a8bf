/**
 * Per-operation timing on the lab path: the lab board is `hil emulate` behind a real pty
 * (found by its by-id name), with its emulated twin in process. Every client operation of
 * the scenario is written to the run's timing samples, on the board's own clock: wall time
 * on the lab board, virtual time on the twin, each line naming its board.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { expect } from "chai";
import { startEmulator } from "../../harness/expose/emulator-process.js";
import { TIMING_SAMPLES_ENV, type TimingLine } from "../../harness/mocha/timing-hooks.js";
import { byIdDirHooks } from "./lab-emulators.js";
import { runSuitesOnRig } from "./lab-suite-run.js";

const PORT_NAME = "usb-STMicroelectronics_STLINK-V3_0670FF3632-if02";

describe("operation timing on the lab path (hil emulate on a pty, its twin in process)", function () {
  this.timeout(240_000);
  const byId = byIdDirHooks();

  it("records each USART operation per board: wall time on the lab board, virtual on its twin", async () => {
    const emulator = await startEmulator("stm32l432kc", join(byId.dir, PORT_NAME), [], { log: false });
    const samples = join(byId.dir, "timing-samples.jsonl");
    try {
      const result = await runSuitesOnRig({
        rigYaml: [
          "name: timing-lab",
          "boards:",
          "  - id: lab-l432",
          "    family: stm32l432",
          "    capabilities: [usart]",
          `    serial: { byId: /dev/serial/by-id/${PORT_NAME}, baudRate: 115200 }`,
          `    power: { backend: command, off: "kill -USR1 ${emulator.pid}", on: "kill -USR2 ${emulator.pid}" }`,
          "    timeouts: { enumerateMs: 5000, settleMs: 20, powerOffMs: 300 }",
          "    info: { bootloader: V3.1 }",
          "    twin: true",
        ],
        suites: "suites/stm32-usart/*.spec.ts",
        args: ["--grep", "Get lists one of Erase"],
        env: { HIL_SERIAL_BY_ID_DIR: byId.dir, [TIMING_SAMPLES_ENV]: samples },
      });
      expect(result.failures, result.stderr).to.deep.equal([]);
      expect(result.passes).to.have.length(2);
    } finally {
      await emulator.stop();
    }
    const lines = (await readFile(samples, "utf8"))
      .split("\n")
      .filter(Boolean)
      .map((l) => JSON.parse(l) as TimingLine);
    const lab = lines.filter((l) => l.board === "lab-l432");
    const twin = lines.filter((l) => l.board === "lab-l432-twin");
    // The same operations, under the same names, on both boards.
    const ops = (ls: TimingLine[]) => [...new Set(ls.map((l) => l.op))].sort();
    expect(ops(lab)).to.include("page erase");
    expect(ops(lab)).to.deep.equal(ops(twin));
    expect(lab.every((l) => l.family === "stm32l432" && l.emulated === false && !l.twinOf)).to.equal(true);
    expect(twin.every((l) => l.twinOf === "lab-l432")).to.equal(true);
    // The board's identity once, on its first line.
    expect(lab[0]?.identity).to.include({ bootloader: "V3.1" });
    expect(lab.slice(1).some((l) => l.identity)).to.equal(false);
    // A page erase costs the emulated chip 22 ms a page of device time, paced in wall time on the lab side.
    const erase = (ls: TimingLine[]) => ls.find((l) => l.op === "page erase") as TimingLine;
    expect(erase(twin).ms / erase(twin).units).to.be.at.least(22);
    expect(erase(lab).ms / erase(lab).units).to.be.at.least(22);
  });
});
