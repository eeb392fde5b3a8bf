/**
 * Twin runs on the lab path: the lab board is `hil emulate` behind a real pty (found by its
 * by-id name, as a rack finds a USB-serial adapter) given a personality its twin lacks; the
 * twin is the in-process emulator of the same family. The comparison must name the exchange
 * where the two part, with its bytes; with the same personality on both, none.
 */
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import { execa } from "execa";
import { startEmulator } from "../../harness/expose/emulator-process.js";
import type { TwinFinding } from "../../harness/mocha/twin-hooks.js";
import { HIL_HISTORY_FILE, readNights } from "../../harness/report/night-history.js";
import { projectRoot } from "../../harness/rig/load.js";
import { byIdDirHooks } from "./lab-emulators.js";
import { runSuitesOnRig } from "./lab-suite-run.js";

const PORT_NAME = "usb-STMicroelectronics_STLINK-V3_0670FF3631-if02";

async function twinRun(
  dir: string,
  profile: string,
  family: string,
  planted: string[],
  twin: string,
  grep: string,
): Promise<{ findings: TwinFinding[]; failures: string[]; passes: string[] }> {
  const emulator = await startEmulator(
    profile,
    join(dir, PORT_NAME),
    planted.flatMap((o) => ["--option", o]),
    {
      log: false,
    },
  );
  const findingsFile = join(dir, `findings-${Date.now()}.jsonl`);
  try {
    const result = await runSuitesOnRig({
      rigYaml: [
        "name: twin-lab",
        "boards:",
        `  - id: lab-${family}`,
        `    family: ${family}`,
        "    capabilities: [usart]",
        `    serial: { byId: /dev/serial/by-id/${PORT_NAME}, baudRate: 115200 }`,
        `    power: { backend: command, off: "kill -USR1 ${emulator.pid}", on: "kill -USR2 ${emulator.pid}" }`,
        "    timeouts: { enumerateMs: 5000, settleMs: 20, powerOffMs: 300 }",
        `    twin: ${twin}`,
      ],
      suites: "suites/stm32-usart/*.spec.ts",
      args: ["--grep", grep],
      env: { HIL_SERIAL_BY_ID_DIR: dir, HIL_TWIN_FINDINGS: findingsFile },
    });
    const text = await readFile(findingsFile, "utf8").catch(() => "");
    const findings = text
      .split("\n")
      .filter(Boolean)
      .map((l) => JSON.parse(l) as TwinFinding);
    return { findings, failures: result.failures, passes: result.passes };
  } finally {
    await emulator.stop();
  }
}

/** The one finding of a run, after checking both sides passed the scenario itself. */
function only(run: Awaited<ReturnType<typeof twinRun>>): TwinFinding {
  expect(run.failures).to.deep.equal([]);
  expect(run.passes).to.have.length(2); // the lab board's test and its twin's
  expect(run.findings).to.have.length(1);
  return run.findings[0]!;
}

const PROBE = "probes like stm32flash";
const GET_CLAUSE = "AN3155: Get (0x00), Get Version (0x01), Get ID (0x02)";
/** The probe's exchanges before Get's reply (sync, Get Version, ...) are alike on both sides. */
const GET_REPLY_AT = 14;

describe("twin runs on the lab path (hil emulate on a pty, its emulated twin in process)", function () {
  this.timeout(240_000);
  const byId = byIdDirHooks();

  it("usartDoubleAck on the lab board: the sync's reply, exchange 2, is 79 79 on the lab and 79 on the twin", async () => {
    const f = only(
      await twinRun(byId.dir, "stm32l432kc", "stm32l432", ["usartDoubleAck=true"], "true", PROBE),
    );
    expect(f).to.include({ lab: "lab-stm32l432", twin: "lab-stm32l432-twin", equal: false });
    const d = f.divergence!;
    expect(d.index).to.equal(2);
    expect([d.lab.hex, d.twin.hex]).to.deep.equal(["7979", "79"]);
    expect(d.lab.before).to.deep.equal(["[0] usart -- event sync", "[1] usart >> tx sync 0x7F: 7f"]);
    expect(d.twin.state).to.match(
      /^operation: sync; last exchange: \[1\] usart >> tx sync 0x7F: 7f; emulator: /,
    );
    expect(d.clauses).to.include(GET_CLAUSE);
  });

  it("usartLegacyErase on the lab board: Get's reply lists 0x43 where the twin lists 0x44", async () => {
    const f = only(
      await twinRun(
        byId.dir,
        "stm32l432kc",
        "stm32l432",
        ["usartLegacyErase=true"],
        "true",
        "Get lists one of Erase",
      ),
    );
    const d = f.divergence!;
    expect(d.index).to.equal(GET_REPLY_AT);
    expect(d.lab.hex).to.equal("790b31000102112131436373829279");
    expect(d.twin.hex).to.equal("790b31000102112131446373829279");
    expect(d.lab.before.at(-1)).to.equal("[13] usart >> tx Get (0x00): 00ff");
  });

  it("a WB55 whose Get omits 0x50/0x51 (as observed on a real one): found at Get's reply", async () => {
    const f = only(
      await twinRun(byId.dir, "stm32wb55", "stm32wb55", ["usartGetListsSpecial=false"], "true", PROBE),
    );
    const d = f.divergence!;
    expect(d.index).to.equal(GET_REPLY_AT);
    expect(d.lab.hex).to.equal("790b31000102112131446373829279");
    expect(d.twin.hex).to.equal("790d310001021121314463738292505179");
  });

  it("with identical personalities there is no divergence (default on both; double ACK on both)", async () => {
    const plain = only(await twinRun(byId.dir, "stm32l432kc", "stm32l432", [], "true", PROBE));
    expect(plain).to.include({ equal: true }).and.not.have.property("divergence");
    const planted = only(
      await twinRun(
        byId.dir,
        "stm32l432kc",
        "stm32l432",
        ["usartDoubleAck=true"],
        "{ options: { usartDoubleAck: true } }",
        PROBE,
      ),
    );
    expect(planted).to.include({ equal: true });
  });
});

describe("hil run --twin on a lab rack, two nights, then hil report", function () {
  this.timeout(240_000);
  const byId = byIdDirHooks();

  it("a divergence the first night is a finding in the matrix and history; gone the next night, the report says so", async () => {
    const scratch = await mkdtemp(join(tmpdir(), "hil-twin-nights-"));
    const night = async (planted: string[]) => {
      const emulator = await startEmulator(
        "stm32l432kc",
        join(byId.dir, PORT_NAME),
        planted.flatMap((o) => ["--option", o]),
        { log: false },
      );
      try {
        await writeFile(
          join(scratch, "rig.yaml"),
          [
            "name: nightly-lab",
            "boards:",
            "  - id: l432",
            "    family: stm32l432",
            "    capabilities: [usart]",
            `    serial: { byId: /dev/serial/by-id/${PORT_NAME}, baudRate: 115200 }`,
            `    power: { backend: command, off: "kill -USR1 ${emulator.pid}", on: "kill -USR2 ${emulator.pid}" }`,
            "    timeouts: { enumerateMs: 5000, settleMs: 20, powerOffMs: 300 }",
            "",
          ].join("\n"),
        );
        const env = {
          HIL_SERIAL_BY_ID_DIR: byId.dir,
          HIL_LEASE_DIR: join(scratch, "leases"),
          HIL_RESULTS_DIR: join(scratch, "reports", "allure-results"),
          HIL_REPRO_DIR: join(scratch, "reports", "repro"),
          NO_COLOR: "1",
        };
        const hil = (args: string[]) =>
          execa(process.execPath, ["bin/hil.js", ...args], {
            cwd: projectRoot(),
            reject: false,
            timeout: 100_000,
            env,
          });
        const run = await hil(["run", "--rig", join(scratch, "rig.yaml"), "--twin", "--grep", PROBE]);
        // The twin parting from the board is no failure of the run.
        expect(run.exitCode, run.stdout + run.stderr).to.equal(0);
        expect(run.stdout).to.match(/^2 passed, 0 failed, 0 skipped$/m);
        const report = await hil([
          "report",
          "--results",
          env.HIL_RESULTS_DIR,
          "--out",
          join(scratch, "reports"),
          "--no-allure",
        ]);
        expect(report.exitCode, report.stderr).to.equal(0);
        return report.stdout;
      } finally {
        await emulator.stop();
      }
    };
    try {
      const first = await night(["usartDoubleAck=true"]);
      expect(first).to.match(
        /^twin: new divergence on l432: .*probes like stm32flash.*: exchange 2: lab usart << rx ACK \+ 1 byte: 7979 \/ twin usart << rx ACK: 79$/m,
      );
      const matrix = await readFile(join(scratch, "reports", "qualification-matrix.md"), "utf8");
      expect(matrix).to.include(`| ${GET_CLAUSE} |`);
      expect(matrix.split("\n").find((l) => l.startsWith(`| ${GET_CLAUSE} |`))).to.match(
        /\| passed \| no: probes like stm32flash.*: exchange 2: .* \|/,
      );
      const second = await night([]);
      expect(second).to.match(
        /^twin: divergence gone on l432: .*probes like stm32flash.* \(was exchange 2: /m,
      );
      const nights = await readNights(join(scratch, "reports", HIL_HISTORY_FILE));
      expect(nights.map((n) => n.twin?.map((t) => t.equal))).to.deep.equal([[false], [true]]);
    } finally {
      await rm(scratch, { recursive: true, force: true });
    }
  });
});
