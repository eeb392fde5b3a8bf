/**
 * A lab rack run as a nightly runs it, where a run that could not test a board must not look
 * like a pass.
 *
 * `hil run` twice in a row on the same boards: the board
 * is `hil emulate stm32l432kc` behind a real pty found by its by-id name, powered through
 * the rig's `command` backend (SIGUSR1 / SIGUSR2 to the emulator), with no boot or reset
 * line: BOOT0 strapped high, as the emulator starts (`--boot bootloader`). The USART full
 * update ends with Go, so the first run leaves the board running its application; the second
 * run must bring it back to its ROM (a power cycle) and test it again, not quarantine it.
 */
import { mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import { execa } from "execa";
import { startEmulator } from "../../harness/expose/emulator-process.js";
import { acquireLease } from "../../harness/lab/lease.js";
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

describe("a lab run that could not test a board does not look like a pass (hil run)", function () {
  this.timeout(120_000);
  const PORT = "usb-Tillitis_MTA1-USB-V1_68de5d27-if00";
  let tmp: string;
  beforeEach(async () => {
    tmp = await mkdtemp(join(tmpdir(), "hil-untested-"));
    await mkdir(join(tmp, "by-id"));
    // The board's tty went away and udev left the link: the health check fails on it.
    await symlink(join(tmp, "no-such-tty"), join(tmp, "by-id", PORT));
    await writeFile(
      join(tmp, "rig.yaml"),
      [
        "name: untested-bench",
        "boards:",
        "  - id: tkey-lab",
        "    family: tkey",
        "    capabilities: []",
        `    serial: { byId: /dev/serial/by-id/${PORT} }`,
        '    power: { backend: command, on: "true", off: "true" }',
        "    timeouts: { enumerateMs: 200, settleMs: 10 }",
        "",
      ].join("\n"),
    );
  });
  afterEach(() => rm(tmp, { recursive: true, force: true }));

  const hilRun = (...args: string[]) =>
    execa(
      process.execPath,
      ["bin/hil.js", "run", "--rig", join(tmp, "rig.yaml"), "--grep", "^tkey: full app load", ...args],
      {
        cwd: projectRoot(),
        reject: false,
        timeout: 100_000,
        env: {
          HIL_SERIAL_BY_ID_DIR: join(tmp, "by-id"),
          HIL_LEASE_DIR: join(tmp, "leases"),
          HIL_LEASE_TIMEOUT_MS: "300",
          HIL_RESULTS_DIR: join(tmp, "allure-results"),
          HIL_REPRO_DIR: join(tmp, "repro"),
          NO_COLOR: "1",
        },
      },
    );

  it("a board quarantined by the start-of-run check: named with its finding at the close, exit 4", async () => {
    const r = await hilRun();
    expect(r.exitCode, r.stdout + r.stderr).to.equal(4);
    expect(r.stdout).to.match(/^0 passed, 0 failed, [1-9]\d* skipped$/m);
    expect(r.stdout).to.match(
      /^hil run: board tkey-lab was quarantined at the start of the run \(infrastructure\): its health check failed \(serial: board tkey-lab: \S+ is a dangling link to \S+no-such-tty, which does not exist \(waited 200 ms\); .* \(\S+rig\.yaml:6 boards\[0\]\.serial\.byId\)\)$/m,
    );
    expect(r.stdout).to.match(/^hil run: 1 board could not be tested \(infrastructure\): exit code 4$/m);
  });

  it("a board another run keeps leased past the wait: named with the holder at the close, exit 4", async () => {
    await rm(join(tmp, "by-id", PORT));
    await symlink("/dev/null", join(tmp, "by-id", PORT));
    const lease = await acquireLease("tkey-lab", { dir: join(tmp, "leases"), owner: "the other nightly" });
    try {
      const r = await hilRun("--skip-check");
      expect(r.exitCode, r.stdout + r.stderr).to.equal(4);
      expect(r.stdout).to.match(/^0 passed, 0 failed, [1-9]\d* skipped$/m);
      expect(r.stderr).to.match(
        /^hil: board tkey-lab is leased: tkey-lab by the other nightly on .*; waiting up to 300 ms for it$/m,
      );
      expect(r.stdout).to.match(
        /^hil run: board tkey-lab was not tested \(infrastructure\): board tkey-lab is leased \(waited 300 ms\): tkey-lab by the other nightly on /m,
      );
    } finally {
      await lease.release();
    }
  });
});
