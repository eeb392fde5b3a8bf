import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { startEmulator } from "../harness/expose/emulator-process.js";
import { projectRoot } from "../harness/rig/load.js";
import type { BenchResult } from "./harness.js";

const PORT = "usb-STMicroelectronics_STLINK-V3_0670FF3631-if02";
const GREP = "^stm32-usart: full update";
const ROUNDS = 3;

/**
 * Twin overhead: `hil run` of the USART full update (probe, then 128 KB written, read back
 * and started) on a lab board that is `hil emulate` behind a pty, with `--twin` and
 * without, wall time of the whole command, the best of ROUNDS each, alternating. The twin
 * runs the same scenario on virtual time, so it should add little: goal ratio <= 1.15.
 */
export async function twinBench(): Promise<BenchResult> {
  const dir = await mkdtemp(join(tmpdir(), "hil-twin-bench-"));
  const emulator = await startEmulator("stm32l432kc", join(dir, PORT), [], { log: false });
  try {
    const rig = join(dir, "rig.yaml");
    await writeFile(
      rig,
      [
        "name: bench-lab",
        "boards:",
        "  - id: l432",
        "    family: stm32l432",
        "    capabilities: [usart]",
        `    serial: { byId: /dev/serial/by-id/${PORT}, baudRate: 115200 }`,
        `    power: { backend: command, off: "kill -USR1 ${emulator.pid}", on: "kill -USR2 ${emulator.pid}" }`,
        "    timeouts: { enumerateMs: 5000, settleMs: 20, powerOffMs: 300 }",
        "",
      ].join("\n"),
    );
    const run = async (twin: boolean): Promise<number> => {
      const t0 = performance.now();
      const r = await execa(
        process.execPath,
        ["bin/hil.js", "run", "--rig", rig, "--grep", GREP, ...(twin ? ["--twin"] : [])],
        {
          cwd: projectRoot(),
          reject: false,
          timeout: 180_000,
          env: {
            HIL_SERIAL_BY_ID_DIR: dir,
            HIL_LEASE_DIR: join(dir, "leases"),
            HIL_RESULTS_DIR: join(dir, "allure-results"),
            HIL_REPRO_DIR: join(dir, "repro"),
            NO_COLOR: "1",
          },
        },
      );
      const ms = performance.now() - t0;
      const want = twin ? 4 : 2;
      if (r.exitCode !== 0 || !new RegExp(`^${want} passed, 0 failed`, "m").test(r.stdout))
        throw new Error(`twin bench: hil run${twin ? " --twin" : ""} did not pass: ${r.stdout}${r.stderr}`);
      return ms;
    };
    const plain: number[] = [];
    const twinned: number[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      plain.push(await run(false));
      twinned.push(await run(true));
    }
    const labMs = Math.min(...plain);
    const twinMs = Math.min(...twinned);
    return {
      name: "twin",
      figures: { labRunMs: labMs, labRunWithTwinMs: twinMs },
      units: { labRunMs: "ms", labRunWithTwinMs: "ms" },
      ratios: { twinOverhead: twinMs / labMs },
    };
  } finally {
    await emulator.stop();
    await rm(dir, { recursive: true, force: true });
  }
}
