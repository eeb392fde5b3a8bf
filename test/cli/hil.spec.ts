import { mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import { execa } from "execa";

const HIL = join(import.meta.dirname, "..", "..", "bin", "hil.js");

describe("hil command line", function () {
  this.timeout(120_000);
  let tmp: string;
  before(async () => {
    tmp = await mkdtemp(join(tmpdir(), "hil-cli-"));
  });
  after(async () => {
    await rm(tmp, { recursive: true, force: true });
  });

  const hil = (args: string[], env: Record<string, string> = {}) =>
    execa("node", [HIL, ...args], {
      reject: false,
      stdin: "ignore",
      env: { HIL_RESULTS_DIR: join(tmp, "results"), HIL_RIG: "", HIL_SEED: "", HIL_FAULTS: "", ...env },
    });

  it("hil rigs lists the default emulated rack", async () => {
    const r = await hil(["rigs"]);
    expect(r.exitCode).to.equal(0);
    expect(r.stdout).to.match(/sim-nor-0\s+sim-nor\s+emulated/);
    expect(r.stdout).to.match(/capabilities: .*power-cut/);
  });

  it("hil rigs names file, line and field of a bad rig file, exit 2", async () => {
    const bad = join(tmp, "bad.yaml");
    await writeFile(
      bad,
      "name: bad\nboards:\n  - id: b1\n    family: stm32wb55\n    capabilities: [power-cut]\n    emulated: {}\n    colour: red\n",
    );
    const r = await hil(["rigs", "--rig", bad]);
    expect(r.exitCode).to.equal(2);
    expect(r.stderr).to.include(`${bad}:7 boards[0]`);
    expect(r.stderr).to.include("colour");
  });

  it("bad flags, commands and values are one line and exit 2", async () => {
    for (const [args, message] of [
      [["run", "--rgi", "x"], /Unknown option '--rgi'/],
      [["frobnicate"], /unknown command 'frobnicate'/],
      [["run", "--seed", "abc"], /--seed: seed 'abc' must be a whole number/],
      [["run", "--fault", "flash-op:x=power-cut"], /flash op must be N/],
      [["rigs", "--rig", join(tmp, "absent.yaml")], /absent\.yaml.*cannot read/],
    ] as const) {
      const r = await hil([...args]);
      expect(r.exitCode, args.join(" ")).to.equal(2);
      expect(r.stderr.trim().split("\n")[0], args.join(" ")).to.match(/^hil: /);
      expect(r.stderr, args.join(" ")).to.match(message);
    }
  });

  it("hil run runs the matching suites, writes Allure results, exit 0", async () => {
    const r = await hil(["run", "--grep", "clean install boots", "--seed", "5"]);
    expect(r.exitCode, r.stdout + r.stderr).to.equal(0);
    expect(r.stdout).to.match(/^1 passed, 0 failed, 0 skipped$/m);
    expect(r.stdout).to.include("seed 5");
    const results = await readdir(join(tmp, "results"));
    expect(results.some((f) => f.endsWith("-result.json"))).to.equal(true);
  });

  it("hil run exits 1 when a scenario fails (a fault from --fault breaks the install)", async () => {
    const r = await hil(["run", "--grep", "clean install boots", "--fault", "flash-op:1=flash-fail"]);
    expect(r.exitCode, r.stdout + r.stderr).to.equal(1);
    expect(r.stdout).to.match(/^0 passed, 1 failed, 0 skipped$/m);
    expect(r.stdout).to.include("injected erase failure");
    // The failure says which fault the run injected, and where it hit.
    expect(r.stdout).to.match(/injected fault: flash-op:1=flash-fail fired at flash op 1 \(erase /);
    // The run ends with the failed test, its bundle's id and the command that replays it.
    const [id, ...others] = await readdir(join(tmp, "repro"));
    expect(others).to.deep.equal([]);
    const summary = r.stdout.slice(r.stdout.indexOf("\nfailed (1):\n") + 1).split("\n");
    expect(summary[0]).to.equal("failed (1):");
    expect(summary[1]).to.match(/^ {2}.*clean install boots/);
    expect(summary[2]).to.equal(`    repro ${id}: npx hil replay ${id}`);
  });
});
