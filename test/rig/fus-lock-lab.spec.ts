/**
 * The FUS authentication-key lock on a lab board (`hil emulate stm32wb55` behind a real pty,
 * found by its by-id name, powered by signals through the rig's `command` backend), run
 * through `hil run`. Refused by the interlock, the test skips with the refusal on the
 * console and in its Allure result; allowed, it runs and closes the USART port it opened
 * (the board's tests leave no port for the harness to close behind them).
 */
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import { execa } from "execa";
import { type EmulatorProcess, startEmulator } from "../../harness/expose/emulator-process.js";
import { projectRoot } from "../../harness/rig/load.js";
import { byIdDirHooks } from "./lab-emulators.js";

const PORT_NAME = "usb-STMicroelectronics_STLINK-V3_0671FF3833-if02";
const TITLE = "authentication key locked: a later update is refused with AUTH_KEY_LOCKED";

describe("stm32-fus auth-key lock on a lab board (hil run on hil emulate stm32wb55 over a pty)", function () {
  this.timeout(180_000);
  const byId = byIdDirHooks();
  let emulator: EmulatorProcess | undefined;
  let scratch: string;
  beforeEach(async () => {
    emulator = await startEmulator("stm32wb55", join(byId.dir, PORT_NAME), [], { log: false });
    scratch = await mkdtemp(join(tmpdir(), "hil-fus-lock-"));
  });
  afterEach(async () => {
    await emulator?.stop();
    await rm(scratch, { recursive: true, force: true });
  });

  async function hilRun(capabilities: string, ...args: string[]) {
    const rig = join(scratch, "rig.yaml");
    await writeFile(
      rig,
      [
        "name: fus-lab",
        "boards:",
        "  - id: wb55-pty",
        "    family: stm32wb55",
        `    capabilities: [${capabilities}]`,
        `    serial: { byId: /dev/serial/by-id/${PORT_NAME}, baudRate: 115200 }`,
        `    power: { backend: command, cutsPower: true, off: "kill -USR1 ${emulator!.pid}", on: "kill -USR2 ${emulator!.pid}" }`,
        "    timeouts: { enumerateMs: 5000, settleMs: 20, powerOffMs: 300 }",
        "",
      ].join("\n"),
    );
    return execa(process.execPath, ["bin/hil.js", "run", "--rig", rig, "--grep", TITLE, ...args], {
      cwd: projectRoot(),
      reject: false,
      timeout: 150_000,
      env: {
        HIL_SERIAL_BY_ID_DIR: byId.dir,
        HIL_LEASE_DIR: join(scratch, "leases"),
        HIL_RESULTS_DIR: join(scratch, "allure-results"),
        HIL_REPRO_DIR: join(scratch, "repro"),
        HIL_ALLOW_IRREVERSIBLE: "",
        NO_COLOR: "1",
      },
    });
  }

  async function results(): Promise<{ name: string; status: string; description?: string }[]> {
    const dir = join(scratch, "allure-results");
    const files = (await readdir(dir)).filter((f) => f.endsWith("-result.json"));
    return Promise.all(files.map(async (f) => JSON.parse(await readFile(join(dir, f), "utf8"))));
  }

  it("refused by the interlock: skipped with the refusal on the console and in the result", async () => {
    const r = await hilRun("fus, usart");
    expect(r.exitCode, r.stdout + r.stderr).to.equal(0);
    expect(r.stdout).to.match(/^0 passed, 0 failed, \d+ skipped$/m);
    const refusal =
      "refused irreversible operation 'fus-auth-key-lock' (lock the FUS customer authentication key (AN5185: cannot be changed afterwards)) on lab board wb55-pty: " +
      "the rig file does not list the board as sacrificial (capabilities: [..., sacrificial]), and the run was not started with " +
      "--allow-irreversible (HIL_ALLOW_IRREVERSIBLE=1). Nothing was sent to the board.";
    expect(r.stderr).to.include(`hil: skipping '${TITLE}' on board wb55-pty: ${refusal}`);
    const lock = (await results()).filter((x) => x.name === TITLE);
    expect(lock.map((x) => [x.status, x.description])).to.deep.equal([["skipped", `Skipped: ${refusal}.`]]);
  });

  it("allowed (sacrificial, --allow-irreversible): runs, and closes the USART port it opened", async () => {
    const r = await hilRun("fus, usart, sacrificial", "--allow-irreversible");
    expect(r.exitCode, r.stdout + r.stderr).to.equal(0);
    expect(r.stdout).to.match(/^1 passed, 0 failed, \d+ skipped$/m);
    expect(r.stderr).not.to.include("left open");
  });
});
