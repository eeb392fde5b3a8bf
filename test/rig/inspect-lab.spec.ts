/**
 * White-box tests on a lab board: the suites run in a child mocha (with the Allure reporter,
 * as `hil run` does) on a rig whose lab WB55 offers USB DFU but no `inspect`. The tests that
 * need inspect must skip, their reason in the result, before they touch the board (there is
 * no USB device behind this one: a test that went on would fail).
 */
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import { execa } from "execa";
import { projectRoot } from "../../harness/rig/load.js";

interface AllureResult {
  name: string;
  status: string;
  description?: string;
}

describe("inspect on a lab board: white-box tests skip with the reason", function () {
  this.timeout(120_000);
  let scratch: string;
  before(async () => {
    scratch = await mkdtemp(join(tmpdir(), "hil-inspect-lab-"));
  });
  after(() => rm(scratch, { recursive: true, force: true }));

  it("stm32-dfu: WB55 mass erase and RDP level 1 skip on a lab WB55, naming the board and inspect", async () => {
    const rig = join(scratch, "rig.yaml");
    await writeFile(
      rig,
      [
        "name: wb55-lab",
        "boards:",
        "  - id: wb55-nucleo",
        "    family: stm32wb55",
        "    capabilities: [usb-dfu, sacrificial]",
        '    usb: { vid: "0483", pid: "df11", serial: 206B37864E48 }',
        '    power: { backend: command, on: "true", off: "true" }',
        "",
      ].join("\n"),
    );
    const results = join(scratch, "allure-results");
    const run = await execa(
      join(projectRoot(), "node_modules/.bin/mocha"),
      [
        "--no-config",
        "--node-option",
        "import=tsx",
        "--node-option",
        "no-experimental-require-module",
        "--exit",
        "--reporter",
        "allure-mocha",
        "--reporter-option",
        `resultsDir=${results}`,
        "--grep",
        "WB55: mass erase refused|RDP level 1",
        "suites/stm32-dfu/error-injection.spec.ts",
      ],
      {
        cwd: projectRoot(),
        reject: false,
        timeout: 100_000,
        env: { HIL_RIG: rig, HIL_LEASE_DIR: join(scratch, "leases") },
      },
    );
    expect(run.exitCode, run.stderr).to.equal(0);
    const files = (await readdir(results)).filter((f) => f.endsWith("-result.json"));
    const all = await Promise.all(
      files.map(async (f) => JSON.parse(await readFile(join(results, f), "utf8")) as AllureResult),
    );
    const summary = all
      .map((r) => ({ name: r.name.replace(/:.*/, ""), status: r.status, description: r.description }))
      .sort((a, b) => a.name.localeCompare(b.name));
    const why = "needs the inspect capability (an emulated board; a lab board would need a debug probe)";
    expect(summary).to.deep.equal([
      {
        name: "RDP level 1",
        status: "skipped",
        description: `Skipped: wb55-nucleo: RDP level 1 is set through the chip's option bytes: ${why}.`,
      },
      {
        name: "WB55",
        status: "skipped",
        description:
          "Skipped: wb55-nucleo: the secure area is preloaded over SWD to show that it survives " +
          `(a lab WB55 would lose its wireless stack if the refusal failed): ${why}.`,
      },
    ]);
  });
});
