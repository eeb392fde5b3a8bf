/**
 * Twin runs of a TKey on the lab path: the lab board is `hil emulate tkey` behind a real pty
 * (found by its by-id name), run by `hil run`, whose health check reads the board's firmware
 * version; that version picks the twin's profile. Here the lab key is a Castor (version 6).
 *
 * - A rig file that pins the twin to Bellatrix (`twin: { profile: bellatrix }`: a key
 *   reflashed since the rig file was written) is a profile mismatch the identity does not
 *   correct: the first divergence is the NAME_VERSION reply, version 6 on the lab and 5 on
 *   the twin, at its exact exchange with both sides' bytes.
 * - `twin: true` lets the identity pick Castor: no divergence, although the two keys' UDIs
 *   differ (another serial, and in the mismatch run another product ID): the UDI is masked.
 */
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import { execa } from "execa";
import { parseTKeyOptions } from "../../harness/devices/tkey/options.js";
import { tkeyProfile } from "../../harness/devices/tkey/profiles.js";
import { startEmulator } from "../../harness/expose/emulator-process.js";
import type { TwinFinding } from "../../harness/mocha/twin-hooks.js";
import { projectRoot } from "../../harness/rig/load.js";
import { mixSeed } from "../../harness/rig/rig.js";
import { byIdDirHooks } from "./lab-emulators.js";

const PORT_NAME = "usb-Tillitis_MTA1-USB-V1_68de5d27-if00";
const BOARD = "tkey-lab";
const SEED = 20;
/** The lab key's UDI serial, planted so it surely differs from the twin's. */
const LAB_SERIAL = 0x5eed1ab0;

const PROBE = "after power-on the firmware answers the probe with its name and version";
const UDI = "GET_UDI reports a known product and the board's serial";
const LOAD =
  "loads an app of 128 bytes (a chunk and one byte): the digest is BLAKE2s of the file and the app runs";
const GREP = "firmware answers the probe|GET_UDI reports|loads an app of 128 bytes";

/** FW_RSP_NAME_VERSION: header 0x52 (ID 2, endpoint 2, 32 bytes), 0x02, "tk1 ", "mkdf", version LE, 19 zeros. */
const nameVersionReply = (version: number) =>
  `5202746b31206d6b6466${version.toString(16).padStart(2, "0")}000000${"00".repeat(19)}`;

async function twinRun(
  byIdDir: string,
  twin: string,
): Promise<{ findings: Map<string, TwinFinding>; stdout: string }> {
  const scratch = await mkdtemp(join(tmpdir(), "hil-twin-tkey-"));
  const emulator = await startEmulator(
    "tkey",
    join(byIdDir, PORT_NAME),
    ["--option", "profile=castor", "--option", `serial=${LAB_SERIAL}`],
    { log: false },
  );
  try {
    const rig = join(scratch, "rig.yaml");
    await writeFile(
      rig,
      [
        "name: twin-tkey-lab",
        "boards:",
        `  - id: ${BOARD}`,
        "    family: tkey",
        "    capabilities: [power-cut]",
        `    serial: { byId: /dev/serial/by-id/${PORT_NAME} }`,
        `    power: { backend: command, cutsPower: true, off: "kill -USR1 ${emulator.pid}", on: "kill -USR2 ${emulator.pid}" }`,
        "    timeouts: { enumerateMs: 5000, settleMs: 20, powerOffMs: 100 }",
        `    twin: ${twin}`,
        "",
      ].join("\n"),
    );
    const findingsFile = join(scratch, "twin-findings.jsonl");
    const run = await execa(
      process.execPath,
      ["bin/hil.js", "run", "--rig", rig, "--seed", String(SEED), "--suites", "suites/tkey", "--grep", GREP],
      {
        cwd: projectRoot(),
        reject: false,
        timeout: 150_000,
        env: {
          HIL_SERIAL_BY_ID_DIR: byIdDir,
          HIL_LEASE_DIR: join(scratch, "leases"),
          HIL_RESULTS_DIR: join(scratch, "reports", "allure-results"),
          HIL_REPRO_DIR: join(scratch, "reports", "repro"),
          HIL_TWIN_FINDINGS: findingsFile,
          NO_COLOR: "1",
        },
      },
    );
    // A twin parting from its board is a finding about the emulator, not a failure of the run.
    expect(run.exitCode, run.stdout + run.stderr).to.equal(0);
    expect(run.stdout).to.match(/^6 passed, 0 failed, 0 skipped$/m);
    const text = await readFile(findingsFile, "utf8");
    const findings = text
      .split("\n")
      .filter(Boolean)
      .map((l) => JSON.parse(l) as TwinFinding);
    return { findings: new Map(findings.map((f) => [f.test, f])), stdout: run.stdout };
  } finally {
    await emulator.stop();
    await rm(scratch, { recursive: true, force: true });
  }
}

describe("TKey twin runs on the lab path (hil emulate tkey on a pty, its emulated twin in process)", function () {
  this.timeout(300_000);
  const byId = byIdDirHooks();

  it("a twin pinned to Bellatrix beside a Castor key: the NAME_VERSION reply, version 6 against 5, is the divergence", async () => {
    const { findings } = await twinRun(byId.dir, "{ profile: bellatrix }");
    expect([...findings.keys()]).to.have.members([PROBE, UDI, LOAD]);
    const probe = findings.get(PROBE)!;
    expect(probe).to.include({ lab: BOARD, twin: `${BOARD}-twin`, equal: false });
    const d = probe.divergence!;
    expect(d.outcomeOnly).to.equal(false);
    // [0] NAME_VERSION sent; [1] its reply is where they part.
    expect(d.index).to.equal(1);
    expect(d.lab.before).to.deep.equal(d.twin.before);
    expect(d.lab.before).to.deep.equal(["[0] tkey >> tx FW_CMD_NAME_VERSION (fw, 1 B): 5001"]);
    expect(d.lab.hex).to.equal(nameVersionReply(6));
    expect(d.twin.hex).to.equal(nameVersionReply(5));
    const line = (hex: string) => `[1] tkey << rx FW_RSP_NAME_VERSION: ${hex.slice(0, 64)}… (33 bytes)`;
    expect([d.lab.exchange, d.twin.exchange]).to.deep.equal([
      line(nameVersionReply(6)),
      line(nameVersionReply(5)),
    ]);
    expect(d.twin.state).to.match(/emulator: state bellatrix firmware v5: INITIAL/);
    expect(d.clauses).to.include("TKey firmware protocol: FW_CMD_NAME_VERSION / FW_RSP_NAME_VERSION");
    // The UDIs differ in product ID (Castor 3, Bellatrix 2) and serial: masked, no divergence.
    expect(findings.get(UDI)).to.include({ equal: true }).and.not.have.property("divergence");
    // Loading is the same protocol in both releases (only the CDI differs, which stays inside).
    expect(findings.get(LOAD)).to.include({ equal: true });
  });

  it("twin: true, so the firmware version picks Castor: no divergence; the UDIs differ but are masked", async () => {
    // The twin's UDI serial comes from the lab board's seed; the lab key's was planted.
    const twinUdi = parseTKeyOptions(tkeyProfile("castor"), {}, mixSeed(SEED, BOARD)).udiWords;
    expect(twinUdi[1]).to.not.equal(LAB_SERIAL);
    const { findings } = await twinRun(byId.dir, "true");
    expect([...findings.keys()]).to.have.members([PROBE, UDI, LOAD]);
    for (const f of findings.values())
      expect(f, f.test).to.include({ equal: true }).and.not.have.property("divergence");
  });
});
