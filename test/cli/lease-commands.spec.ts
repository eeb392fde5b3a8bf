/**
 * `hil reserve`, `hil release` and `hil leases` on both lease backends, and a `hil run` that
 * finds its lab board reserved: it waits HIL_LEASE_TIMEOUT_MS, then skips the board's tests
 * with the holder (user, host, note) named.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import { execa } from "execa";
import { parseDuration } from "../../harness/cli/lease-commands.js";
import { readResults } from "../../harness/report/results.js";
import { skipReasonOf } from "../../harness/report/skip.js";
import { EtcdServer, etcdAvailable, freePort, NO_ETCD } from "../lab/etcd-server.js";

const HIL = join(import.meta.dirname, "..", "..", "bin", "hil.js");

/** A lab board nobody can reach: a run that gets its lease would fail, one that skips never touches it. */
function rigYaml(leases: string[]): string {
  return [
    "name: shared-rack",
    ...leases,
    "boards:",
    "  - id: l432-shared",
    "    family: stm32l432",
    "    capabilities: [usart]",
    "    serial: { byId: /dev/serial/by-id/usb-absent_board-if00, baudRate: 115200 }",
    '    power: { backend: command, on: "true", off: "true" }',
    "",
  ].join("\n");
}

describe("hil reserve / release / leases", function () {
  this.timeout(120_000);
  let tmp: string;
  before(async () => {
    tmp = await mkdtemp(join(tmpdir(), "hil-reserve-"));
  });
  after(async () => {
    await rm(tmp, { recursive: true, force: true });
  });

  const hil = (args: string[], env: Record<string, string> = {}) =>
    execa("node", [HIL, ...args], {
      reject: false,
      stdin: "ignore",
      env: {
        HIL_RESULTS_DIR: join(tmp, "results"),
        HIL_RIG: "",
        HIL_LEASE_ETCD: "",
        HIL_LEASE_DIR: join(tmp, "leases"),
        USER: "dev-alice",
        ...env,
      },
    });

  it("parses --for as 90s, 30m, 2h, 1h30m, 1d; refuses the rest", () => {
    expect(parseDuration("90s")).to.equal(90_000);
    expect(parseDuration("30m")).to.equal(1_800_000);
    expect(parseDuration("2h")).to.equal(7_200_000);
    expect(parseDuration("1h30m")).to.equal(5_400_000);
    expect(parseDuration("1d")).to.equal(86_400_000);
    for (const bad of ["2", "h", "2 h", "-1h", "2hours", ""])
      expect(() => parseDuration(bad), bad).to.throw(/--for: expected a duration/);
  });

  it("lock files: reserve outlives the command, a second reserve names the holder, leases lists it, release ends it", async () => {
    const rig = join(tmp, "file-rig.yaml");
    await writeFile(rig, rigYaml([]));
    const reserved = await hil([
      "reserve",
      "l432-shared",
      "--for",
      "2h",
      "--note",
      "bisecting #42",
      "--rig",
      rig,
    ]);
    expect(reserved.exitCode, reserved.stderr).to.equal(0);
    expect(reserved.stdout).to.match(
      /^reserved board l432-shared until \S+ \(lock files in .*\): dev-alice on /,
    );
    // The reserving process is gone: its reservation is not (no pid to judge it by).
    const again = await hil(["reserve", "l432-shared", "--rig", rig], { USER: "dev-bob" });
    expect(again.exitCode).to.equal(1);
    expect(again.stderr).to.match(/board l432-shared is held by dev-alice on .* until \S+: bisecting #42/);
    const list = await hil(["leases", "--rig", rig]);
    expect(list.stdout).to.match(
      /^ {2}l432-shared\s+dev-alice@\S+ pid \d+ {2}since \S+ {2}until \S+ {2}bisecting #42$/m,
    );
    const unknown = await hil(["reserve", "nope", "--rig", rig]);
    expect(unknown.exitCode).to.equal(2);
    expect(unknown.stderr).to.include(
      "board 'nope' is not a lab board of rig 'shared-rack' (lab boards: l432-shared)",
    );
    const released = await hil(["release", "l432-shared", "--rig", rig]);
    expect(released.stdout).to.match(/^released board l432-shared, held by dev-alice on /);
    expect((await hil(["leases", "--rig", rig])).stdout).to.match(/^ {2}none$/m);
  });

  it("etcd not answering: hil leases and hil reserve say so in one line (exit 1); hil rigs --check fails the board's lease step", async () => {
    const rig = join(tmp, "dead-etcd.yaml");
    const endpoint = `http://127.0.0.1:${await freePort()}`;
    await writeFile(rig, rigYaml([`leases: { backend: etcd, endpoints: ["${endpoint}"] }`]));
    const list = await hil(["leases", "--rig", rig]);
    expect(list.exitCode).to.equal(1);
    expect(list.stderr.trim()).to.match(
      new RegExp(`^hil leases: etcd kv/range: no endpoint answered \\(${endpoint}: .*\\)$`),
    );
    const reserve = await hil(["reserve", "l432-shared", "--rig", rig]);
    expect(reserve.exitCode).to.equal(1);
    expect(reserve.stderr.trim()).to.match(/^hil reserve: etcd lease\/grant: no endpoint answered/);
    const check = await hil(["rigs", "--check", "--rig", rig]);
    expect(check.exitCode).to.equal(1);
    expect(check.stdout).to.match(/lease: etcd lease\/grant: no endpoint answered/);
  });

  describe("in etcd", () => {
    let etcd: EtcdServer;
    before(async function () {
      if (!etcdAvailable()) {
        console.warn(`    skipped: ${NO_ETCD}`);
        this.skip();
      }
      etcd = await EtcdServer.start();
    });
    after(async () => {
      await etcd?.dispose();
    });

    it("hil reserve, then hil run waits for the board and skips its tests naming the holder; release frees it", async () => {
      const rig = join(tmp, "etcd-rig.yaml");
      await writeFile(
        rig,
        rigYaml([`leases: { backend: etcd, endpoints: ["${etcd.endpoint}"], prefix: "/rack-7/", ttlS: 5 }`]),
      );
      const reserved = await hil([
        "reserve",
        "l432-shared",
        "--for",
        "1h",
        "--note",
        "bisecting #42",
        "--rig",
        rig,
      ]);
      expect(reserved.exitCode, reserved.stderr).to.equal(0);
      expect(reserved.stdout).to.include(`(etcd ${etcd.endpoint} under /rack-7/)`);
      const list = await hil(["leases", "--rig", rig]);
      expect(list.stdout).to.match(
        /^ {2}l432-shared\s+dev-alice@\S+ pid \d+ {2}since \S+ {2}until \S+ {2}bisecting #42$/m,
      );
      const until = Date.parse(/until (\S+)/.exec(list.stdout)![1]!);
      expect(until - Date.now()).to.be.within(3_500_000, 3_600_000);

      const results = join(tmp, "run-results");
      const run = await hil(["run", "--rig", rig, "--grep", "^stm32-usart: full update"], {
        HIL_LEASE_TIMEOUT_MS: "500",
        HIL_RESULTS_DIR: results,
        USER: "ci",
      });
      // Not health-checked (it is someone else's), not tested, and the close says why: exit 4.
      expect(run.stdout).to.match(/ lease: leased by dev-alice on .*bisecting #42: not checked$/m);
      expect(run.stdout).to.match(
        /^hil run: board l432-shared was not tested \(infrastructure\): board l432-shared is leased/m,
      );
      expect(run.exitCode).to.equal(4);
      expect(run.stderr).to.match(
        /^hil: board l432-shared is leased: l432-shared by dev-alice on \S+ \(pid \d+, run \w+\) since \S+ until \S+: bisecting #42; waiting up to 500 ms for it$/m,
      );
      const skipped = (await readResults(results)).filter((r) => r.status === "skipped");
      expect(skipped.length).to.be.above(0);
      for (const r of skipped)
        expect(skipReasonOf(r.description)).to.match(
          /^board l432-shared is leased \(waited 500 ms\): l432-shared by dev-alice on .*: bisecting #42$/,
        );
      expect((await readResults(results)).filter((r) => r.status !== "skipped")).to.deep.equal([]);

      const released = await hil(["release", "l432-shared", "--rig", rig]);
      expect(released.stdout).to.match(/^released board l432-shared, held by dev-alice on /);
      expect((await hil(["leases", "--rig", rig])).stdout).to.match(/^ {2}none$/m);
    });
  });
});
