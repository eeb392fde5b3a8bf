import { execFile } from "node:child_process";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { expect } from "chai";
import { projectRoot } from "../../harness/rig/load.js";

interface AllureResult {
  name: string;
  status: string;
  description?: string;
  labels: { name: string; value: string }[];
  parameters: { name: string; value: string; excluded?: boolean }[];
}

const FIXTURE = "test/rig/fixtures/board-suite.fixture.ts";

/**
 * forEachBoard as mocha and Allure see it: the fixture suite runs in a child mocha with
 * the allure-mocha reporter (chaining spec), and both outputs are read back.
 */
describe("forEachBoard", function () {
  this.timeout(60_000);
  let stdout: string;
  let results: AllureResult[];
  let resultsDir: string;

  before(async () => {
    resultsDir = await mkdtemp(join(tmpdir(), "rig-suite-"));
    const mochaBin = createRequire(import.meta.url).resolve("mocha/bin/mocha.js");
    const run = await promisify(execFile)(
      process.execPath,
      [
        "--import",
        "tsx",
        mochaBin,
        "--no-config",
        "--reporter",
        "allure-mocha",
        "--reporter-option",
        `resultsDir=${resultsDir}`,
        "--reporter-option",
        "extraReporters=spec",
        FIXTURE,
      ],
      {
        cwd: projectRoot(),
        env: {
          ...process.env,
          NO_COLOR: "1",
          FORCE_COLOR: "0",
          // As `hil run` hands over what its health check read from each board.
          HIL_BOARD_IDENTITY: JSON.stringify({
            "nor-a": { bootloader: "0x91", pid: "0x435", serial: "SN-A" },
          }),
        },
      },
    );
    stdout = run.stdout;
    const files = (await readdir(resultsDir)).filter((f) => f.endsWith("-result.json"));
    results = await Promise.all(
      files.map(async (f) => JSON.parse(await readFile(join(resultsDir, f), "utf8")) as AllureResult),
    );
  });

  after(async () => {
    await rm(resultsDir, { recursive: true, force: true });
  });

  const result = (name: string) => {
    const found = results.filter((r) => r.name === name);
    expect(found, `one Allure result named "${name}"`).to.have.length(1);
    return found[0]!;
  };
  const label = (r: AllureResult, name: string) =>
    r.labels.filter((l) => l.name === name).map((l) => l.value);

  it("defines the body once per matching board, under '<id> (<family>)'", () => {
    expect(stdout).to.match(/nor-a \(sim-nor\)\n\s+✔ cuts power\n\s+✔ restores power/);
    expect(stdout).not.to.include("nor-b");
    expect(stdout).to.include("2 passing");
  });

  it("puts the board's labels on every test of it", () => {
    for (const name of ["cuts power", "restores power"]) {
      const r = result(name);
      expect(r.status).to.equal("passed");
      expect(label(r, "rig")).to.deep.equal(["fixture-rig"]);
      expect(label(r, "board")).to.deep.equal(["nor-a"]);
      expect(label(r, "board.serial")).to.deep.equal(["SN-A"]);
      expect(label(r, "family")).to.deep.equal(["sim-nor"]);
      expect(label(r, "board.kind")).to.deep.equal(["emulated"]);
      expect(label(r, "version.updater")).to.deep.equal(["1.0"]);
      expect(label(r, "host"), "allure-mocha's own host label, not a second one").to.have.length(1);
    }
  });

  it("carries the board's identity from the run's health check as parameters, kept out of the history id", () => {
    for (const name of ["cuts power", "restores power"]) {
      const identity = result(name).parameters.filter((p) =>
        ["bootloader", "pid", "serial"].includes(p.name),
      );
      expect(identity).to.deep.equal([
        { name: "bootloader", value: "0x91", excluded: true },
        { name: "pid", value: "0x435", excluded: true },
        { name: "serial", value: "SN-A", excluded: true },
      ]);
    }
  });

  it("shows a rig without a matching board as one skipped test carrying the reason, never as passed", () => {
    const title = "skipped: rig 'fixture-rig' has no board of family tkey";
    expect(stdout).to.include(`- ${title}`);
    expect(stdout).to.include("1 pending");
    expect(stdout).not.to.include("never defined");
    const r = result(title);
    expect(r.status).to.equal("skipped");
    expect(r.description).to.equal("Skipped: rig 'fixture-rig' has no board of family tkey.");
    expect(label(r, "rig")).to.deep.equal(["fixture-rig"]);
    expect(results.map((x) => x.name)).not.to.include("never defined");
  });
});
