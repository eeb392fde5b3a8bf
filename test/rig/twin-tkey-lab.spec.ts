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
 * - A QEMU tk1 machine (`qemuTrapRestart`: its trap restarts the firmware, where hardware
 *   halts) is a personality the identity cannot see: version 1 picks the twin's qemu
 *   profile, which halts. After an unknown command the lab answers the probe, the twin is
 *   silent; with the personality planted on both, no divergence.
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
import { portsLeftOpen } from "./lab-suite-run.js";

const PORT_NAME = "usb-Tillitis_MTA1-USB-V1_68de5d27-if00";
const BOARD = "tkey-lab";
const SEED = 20;
/** The lab key's UDI serial, planted so it surely differs from the twin's. */
const LAB_SERIAL = 0x5eed1ab0;

const PROBE = "after power-on the firmware answers the probe with its name and version";
const UDI = "GET_UDI reports a known product and the board's serial";
const LOAD =
  "loads an app of 128 bytes (a chunk and one byte): the digest is BLAKE2s of the file and the app runs";
const UNKNOWN_COMMAND = "an unknown command";
const GREP = "firmware answers the probe|GET_UDI reports|loads an app of 128 bytes";

/** FW_RSP_NAME_VERSION: header 0x52 (ID 2, endpoint 2, 32 bytes), 0x02, "tk1 ", "mkdf", version LE, 19 zeros. */
const nameVersionReply = (version: number) =>
  `5202746b31206d6b6466${version.toString(16).padStart(2, "0")}000000${"00".repeat(19)}`;

const CASTOR = ["--option", "profile=castor", "--option", `serial=${LAB_SERIAL}`];

async function twinRun(
  byIdDir: string,
  twin: string,
  opts: { planted?: string[]; grep?: string } = {},
): Promise<{ findings: Map<string, TwinFinding>; stdout: string; exitCode: number | undefined }> {
  const scratch = await mkdtemp(join(tmpdir(), "hil-twin-tkey-"));
  const emulator = await startEmulator("tkey", join(byIdDir, PORT_NAME), opts.planted ?? CASTOR, {
    log: false,
  });
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
      [
        "bin/hil.js",
        "run",
        "--rig",
        rig,
        "--seed",
        String(SEED),
        "--suites",
        "suites/tkey",
        "--grep",
        opts.grep ?? GREP,
      ],
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
    const text = await readFile(findingsFile, "utf8");
    const findings = text
      .split("\n")
      .filter(Boolean)
      .map((l) => JSON.parse(l) as TwinFinding);
    return {
      findings: new Map(findings.map((f) => [f.test, f])),
      stdout: `${run.stdout}\n${run.stderr}`,
      exitCode: run.exitCode,
    };
  } finally {
    await emulator.stop();
    await rm(scratch, { recursive: true, force: true });
  }
}

describe("TKey twin runs on the lab path (hil emulate tkey on a pty, its emulated twin in process)", function () {
  this.timeout(300_000);
  const byId = byIdDirHooks();

  it("a twin pinned to Bellatrix beside a Castor key: the NAME_VERSION reply, version 6 against 5, is the divergence", async () => {
    const { findings, stdout, exitCode } = await twinRun(byId.dir, "{ profile: bellatrix }");
    // A twin parting from its board is a finding about the emulator, not a failure of the run.
    expect(exitCode, stdout).to.equal(0);
    expect(stdout).to.match(/^6 passed, 0 failed, 0 skipped$/m);
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
    const { findings, stdout, exitCode } = await twinRun(byId.dir, "true");
    expect(exitCode, stdout).to.equal(0);
    expect(stdout).to.match(/^6 passed, 0 failed, 0 skipped$/m);
    expect([...findings.keys()]).to.have.members([PROBE, UDI, LOAD]);
    for (const f of findings.values())
      expect(f, f.test).to.include({ equal: true }).and.not.have.property("divergence");
    expect(portsLeftOpen(stdout), "every test closes the key's port").to.deep.equal([]);
  });

  it("a QEMU machine (its trap restarts the firmware) beside a QEMU twin that halts: the probe after the bad frame is answered on the lab only", async () => {
    const { findings, stdout, exitCode } = await twinRun(byId.dir, "true", {
      planted: ["--option", "profile=qemu", "--option", "qemuTrapRestart=true"],
      grep: UNKNOWN_COMMAND,
    });
    // The suite asks for the hardware's halt: QEMU fails it, the twin (version 1 picks qemu) passes.
    expect(exitCode, stdout).to.equal(1);
    expect(stdout).to.match(/^1 passed, 1 failed, 0 skipped$/m);
    // The failing test closes the key's port too.
    expect(portsLeftOpen(stdout)).to.deep.equal([]);
    const f = findings.get(
      `${UNKNOWN_COMMAND}: silence, the client times out, a power cycle brings the firmware back`,
    )!;
    expect(f).to.include({ equal: false });
    const d = f.divergence!;
    // The bad frame and the probe after it are one exchange once the driver's chunking is undone.
    expect(d.index).to.equal(2);
    expect(d.lab.before).to.deep.equal(d.twin.before);
    expect(d.lab.before).to.deep.equal([
      "[0] tkey -- event an unknown command",
      "[1] tkey >> tx 4 bytes (not one whole frame): 500a5001",
    ]);
    // The restarted firmware answers the probe (version 1, the QEMU machine); the twin stays silent.
    expect(d.lab.hex).to.equal(nameVersionReply(1));
    expect(d.twin.exchange).to.equal("[2] tkey << rx nothing (timeout after <ms> ms, wanted 1)");
    expect(d.twin.hex).to.equal("");
    expect(d.lab.state).to.match(/outcome: failed \(expected the operation to fail with TKeySilentError/);
    expect(d.twin.state).to.match(/outcome: passed$/);
    expect(d.clauses).to.deep.equal(["TKey firmware: FAIL halts the CPU, no reply until power-cycled"]);
  });

  it("the same QEMU personality on both (the rig file plants it on the twin): no divergence", async () => {
    const { findings } = await twinRun(byId.dir, "{ options: { qemuTrapRestart: true } }", {
      planted: ["--option", "profile=qemu", "--option", "qemuTrapRestart=true"],
      grep: UNKNOWN_COMMAND,
    });
    expect([...findings.values()].map((f) => f.equal)).to.deep.equal([true]);
  });
});
