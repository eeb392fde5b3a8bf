/**
 * A lab rack run as a nightly runs it: `hil run` twice in a row on the same boards. The board
 * is `hil emulate stm32l432kc` behind a real pty found by its by-id name, powered through
 * the rig's `command` backend (SIGUSR1 / SIGUSR2 to the emulator), with no boot or reset
 * line: BOOT0 strapped high, as the emulator starts (`--boot bootloader`). The USART full
 * update ends with Go, so the first run leaves the board running its application; the second
 * run must bring it back to its ROM (a power cycle) and test it again, not quarantine it.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import { execa } from "execa";
import { startEmulator } from "../../harness/expose/emulator-process.js";
import { projectRoot } from "../../harness/rig/load.js";
import { byIdDirHooks } from "./lab-emulators.js";

const PORT_NAME = "usb-STMicroelectronics_STLINK-V3_0670FF3631-if02";

describe("a lab rack run twice in a row (hil run on hil emulate over a pty)", function () {
  this.timeout(240_000);
  const byId = byIdDirHooks();

  it("a board without boot control left in its application is power-cycled into its ROM and tested again", async () => {
    const emulator = await startEmulator("stm32l432kc", join(byId.dir, PORT_NAME), [], { log: false });
    const scratch = await mkdtemp(join(tmpdir(), "hil-nightly-"));
    try {
      const rig = join(scratch, "rig.yaml");
      await writeFile(
        rig,
        [
          "name: nightly-lab",
          "boards:",
          "  - id: l432-strapped",
          "    family: stm32l432",
          "    capabilities: [usart, power-cut]",
          `    serial: { byId: /dev/serial/by-id/${PORT_NAME}, baudRate: 115200 }`,
          `    power: { backend: command, cutsPower: true, off: "kill -USR1 ${emulator.pid}", on: "kill -USR2 ${emulator.pid}" }`,
          "    timeouts: { enumerateMs: 5000, settleMs: 20, powerOffMs: 300 }",
          "",
        ].join("\n"),
      );
      const run = () =>
        execa(process.execPath, ["bin/hil.js", "run", "--rig", rig, "--grep", "^stm32-usart: full update"], {
          cwd: projectRoot(),
          reject: false,
          timeout: 110_000,
          env: {
            HIL_SERIAL_BY_ID_DIR: byId.dir,
            HIL_LEASE_DIR: join(scratch, "leases"),
            HIL_RESULTS_DIR: join(scratch, "allure-results"),
            HIL_REPRO_DIR: join(scratch, "repro"),
            NO_COLOR: "1",
          },
        });
      const first = await run();
      expect(first.exitCode, first.stdout + first.stderr).to.equal(0);
      expect(first.stdout).to.match(/^2 passed, 0 failed, \d+ skipped$/m);
      // The update ended with Go: the board runs its application now, its ROM is silent.
      const second = await run();
      expect(second.stdout + second.stderr).not.to.include("quarantined");
      expect(second.exitCode, second.stdout + second.stderr).to.equal(0);
      expect(second.stdout).to.match(/^2 passed, 0 failed, \d+ skipped$/m);
    } finally {
      await emulator.stop();
      await rm(scratch, { recursive: true, force: true });
    }
  });
});
