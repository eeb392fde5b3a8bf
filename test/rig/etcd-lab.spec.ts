/**
 * Two rack hosts sharing one board through etcd: two `hil run --shard I/N` processes on one
 * rig file (a lab board served by `hil emulate` on a pty) lease the board in a real etcd.
 * The test polls etcd for the board's holder while they run and checks that no test of one
 * run falls in the other's hold; then `hil report --results A --results B` merges both
 * hosts' results into one matrix.
 */
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import { execa } from "execa";
import { shardFiles } from "../../harness/cli/run-command.js";
import { startEmulator } from "../../harness/expose/emulator-process.js";
import { EtcdGateway } from "../../harness/lab/etcd-gateway.js";
import { type HilResult, label, readResults } from "../../harness/report/results.js";
import { projectRoot } from "../../harness/rig/load.js";
import { EtcdServer, etcdAvailable, NO_ETCD } from "../lab/etcd-server.js";
import { byIdDirHooks } from "./lab-emulators.js";

const HIL = join(projectRoot(), "bin", "hil.js");
const PORT_NAME = "usb-STMicroelectronics_STLINK-V3_0670FF3631-if02";
const FILES = ["stm32-usart/command-set.spec.ts", "stm32-usart/full-update.spec.ts"];

/** The smallest shard count that puts the two suite files in different shards, and those shards. */
async function shardsApart(): Promise<{ count: number; of: [number, number] }> {
  const suites = join(projectRoot(), "suites");
  const all = (await readdir(suites, { recursive: true })).filter((f) => f.endsWith(".spec.ts"));
  for (let count = 2; count <= all.length; count++) {
    const shardOf = (file: string) =>
      [...Array(count).keys()].find((i) => shardFiles(all, { index: i + 1, count }).includes(file))! + 1;
    const [a, b] = FILES.map(shardOf) as [number, number];
    if (a !== b) return { count, of: [a, b] };
  }
  throw new Error("no shard count separates the two suite files");
}

describe("two hil run processes sharing a board through etcd", function () {
  this.timeout(300_000);
  const byId = byIdDirHooks();
  let etcd: EtcdServer;
  let scratch: string;
  before(async function () {
    if (!etcdAvailable()) {
      console.warn(`    skipped: ${NO_ETCD}`);
      this.skip();
    }
    etcd = await EtcdServer.start();
    scratch = await mkdtemp(join(tmpdir(), "hil-etcd-lab-"));
  });
  after(async () => {
    await etcd?.dispose();
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  it("never drive the board at the same time; hil report merges both hosts' results into one matrix", async () => {
    const emulator = await startEmulator("stm32l432kc", join(byId.dir, PORT_NAME), [], { log: false });
    const rig = join(scratch, "rig.yaml");
    await writeFile(
      rig,
      [
        "name: shared-rack",
        `leases: { backend: etcd, endpoints: ["${etcd.endpoint}"], prefix: "/rack/", ttlS: 15 }`,
        "boards:",
        "  - id: l432-pty",
        "    family: stm32l432",
        "    capabilities: [usart]",
        `    serial: { byId: /dev/serial/by-id/${PORT_NAME}, baudRate: 115200 }`,
        // A real power cycle (the emulator's signals): a run finding the board in the application
        // the other run started with Go brings it back to its ROM this way.
        `    power: { backend: command, cutsPower: true, off: "kill -USR1 ${emulator.pid}", on: "kill -USR2 ${emulator.pid}" }`,
        "    timeouts: { enumerateMs: 5000, settleMs: 20, powerOffMs: 300 }",
        "",
      ].join("\n"),
    );
    const gateway = new EtcdGateway({ endpoints: [etcd.endpoint] });
    // Who holds the board, as etcd says, every 50 ms while the runs go.
    const holds: { t: number; run: string | undefined }[] = [];
    let polling = true;
    const poller = (async () => {
      while (polling) {
        const kv = await gateway.get("/rack/boards/l432-pty").catch(() => undefined);
        holds.push({ t: Date.now(), run: kv ? (JSON.parse(kv.value) as { run: string }).run : undefined });
        await new Promise((r) => setTimeout(r, 50));
      }
    })();
    const { count, of } = await shardsApart();
    const run = (id: string, shard: number) =>
      execa("node", [HIL, "run", "--rig", rig, "--shard", `${shard}/${count}`, "--grep", "^stm32-usart: "], {
        reject: false,
        stdin: "ignore",
        timeout: 240_000,
        env: {
          HIL_RUN_ID: id,
          HIL_RESULTS_DIR: join(scratch, `results-${id}`),
          HIL_SERIAL_BY_ID_DIR: byId.dir,
          HIL_LEASE_TIMEOUT_MS: "200000",
          HIL_RIG: "",
          HIL_LEASE_ETCD: "",
        },
      });
    let a: Awaited<ReturnType<typeof run>>;
    let b: typeof a;
    try {
      [a, b] = await Promise.all([run("host-a", of[0]), run("host-b", of[1])]);
    } finally {
      polling = false;
      await poller;
      await emulator.stop();
    }
    expect(a.exitCode, a.stdout + a.stderr).to.equal(0);
    expect(b.exitCode, b.stdout + b.stderr).to.equal(0);

    const results = {
      "host-a": await readResults(join(scratch, "results-host-a")),
      "host-b": await readResults(join(scratch, "results-host-b")),
    };
    const ran = (rs: HilResult[]) =>
      rs.filter((r) => r.status === "passed" && label(r, "board") === "l432-pty");
    expect(ran(results["host-a"]), "host-a tested the board").to.not.be.empty;
    expect(ran(results["host-b"]), "host-b tested the board").to.not.be.empty;
    const heldBy = new Set(holds.map((h) => h.run).filter(Boolean));
    expect([...heldBy].sort()).to.deep.equal(["host-a", "host-b"]);
    // Every test of a run lies where etcd showed that run, and only it, holding the board.
    for (const [id, rs] of Object.entries(results))
      for (const r of ran(rs)) {
        const during = holds.filter((h) => h.t >= r.start && h.t <= r.stop);
        const others = during.filter((h) => h.run !== id);
        expect(
          others,
          `${id} ran "${r.name}" while etcd showed ${others[0]?.run} holding the board`,
        ).to.deep.equal([]);
      }
    // And the two runs' tests never overlap in time.
    for (const x of ran(results["host-a"]))
      for (const y of ran(results["host-b"]))
        expect(x.stop <= y.start || y.stop <= x.start, `"${x.name}" and "${y.name}" overlap`).to.equal(true);

    const out = join(scratch, "merged");
    const report = await execa(
      "node",
      [
        HIL,
        "report",
        "--results",
        join(scratch, "results-host-a"),
        "--results",
        join(scratch, "results-host-b"),
        "--out",
        out,
        "--no-allure",
      ],
      { reject: false, stdin: "ignore" },
    );
    expect(report.exitCode, report.stderr).to.equal(0);
    const total = ran(results["host-a"]).length + ran(results["host-b"]).length;
    const junit = await readFile(join(out, "junit.xml"), "utf8");
    for (const r of [...ran(results["host-a"]), ...ran(results["host-b"])]) expect(junit).to.include(r.name);
    expect(report.stdout).to.match(/^hil report: \d+ results, 0 failed/m);
    const matrix = await readFile(join(out, "qualification-matrix.md"), "utf8");
    expect(matrix).to.include("l432-pty");
    expect(total).to.be.at.least(2);
  });
});
