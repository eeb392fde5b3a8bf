import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import { main } from "../../harness/cli/main.js";

/** `hil report` on hand-written results: files written, gate verdict as the exit code. */
describe("hil report", function () {
  this.timeout(30_000);
  let results: string;
  let out: string;
  const quiet = async (argv: string[]) => {
    const log = console.log;
    const error = console.error;
    const lines: string[] = [];
    console.log = (...a: unknown[]) => lines.push(a.join(" "));
    console.error = (...a: unknown[]) => lines.push(a.join(" "));
    try {
      return { code: await main(argv), text: lines.join("\n") };
    } finally {
      console.log = log;
      console.error = error;
    }
  };
  const result = (name: string, status: string, extra: Record<string, unknown> = {}) => ({
    uuid: name,
    historyId: name,
    name,
    fullName: `suites/x.spec.ts: ${name}`,
    status,
    start: 1000,
    stop: 1500,
    labels: [
      { name: "parentSuite", value: "x" },
      { name: "rig", value: "emulated" },
      { name: "board", value: "l432-0" },
      { name: "family", value: "stm32l432" },
      { name: "clause", value: "AN3155: Go (0x21)" },
    ],
    parameters: [{ name: "seed", value: "9" }],
    ...extra,
  });

  beforeEach(async () => {
    results = await mkdtemp(join(tmpdir(), "hil-report-results-"));
    out = await mkdtemp(join(tmpdir(), "hil-report-out-"));
  });
  afterEach(async () => {
    await rm(results, { recursive: true, force: true });
    await rm(out, { recursive: true, force: true });
  });

  it("writes JUnit, the matrix and the environment; the gate passes a clean run", async () => {
    await writeFile(join(results, "a-result.json"), JSON.stringify(result("goes", "passed")));
    const { code, text } = await quiet([
      "report",
      "--results",
      results,
      "--out",
      out,
      "--no-allure",
      "--gate",
    ]);
    expect(text).to.include("quality gate passed");
    expect(code).to.equal(0);
    expect(await readFile(join(out, "junit.xml"), "utf8")).to.include('<property name="seed" value="9"/>');
    const md = await readFile(join(out, "qualification-matrix.md"), "utf8");
    expect(md).to.include(
      "| AN3155: Go (0x21) | [AN3155 Rev 20](https://www.st.com/resource/en/application_note/cd00264342-usart-protocol-used-in-the-stm32-bootloader-stmicroelectronics.pdf) | normal | passed |",
    );
    // One test ran (as after --grep): the suites' other clauses have tests, so they are
    // "not run", never "gap: no test"; the summary comes first.
    expect(md).to.match(
      /\| AN3155: Write Memory \(0x31\) \| [^\n]* \| normal \| not run \| [^\n]*not run: filtered out/,
    );
    expect(md).not.to.include("gap: no test");
    expect(md).to.match(/\| AN3155 \(STM32 USART bootloader\) \| 17 \| 1 \| 0 \| 0 \| 16 \| 0 \|/);
    expect(await readFile(join(out, "qualification-matrix.html"), "utf8")).to.include(
      "<td>AN3155: Go (0x21)</td>",
    );
    const env = JSON.parse(await readFile(join(out, "environment.json"), "utf8"));
    expect(env).to.include({ rig: "emulated", seed: "9", results: "1 passed" });
    expect(await readFile(join(results, "environment.properties"), "utf8")).to.include("seed=9\n");
  });

  it("fails the gate (exit 3) on a failed test and names it with its category", async () => {
    await writeFile(join(results, "a-result.json"), JSON.stringify(result("goes", "passed")));
    const failed = result("jumps", "failed", { statusDetails: { message: "x", trace: "AssertionError: x" } });
    await writeFile(join(results, "b-result.json"), JSON.stringify(failed));
    const { code, text } = await quiet([
      "report",
      "--results",
      results,
      "--out",
      out,
      "--no-allure",
      "--gate",
    ]);
    expect(code).to.equal(3);
    expect(text).to.include("1 failed (1 firmware-device)");
    expect(text).to.include("success rate 50.0% below 100.0%");
    expect((await quiet(["report", "--results", results, "--out", out, "--no-allure"])).code).to.equal(0);
  });

  it("is a usage error without results", async () => {
    const { code, text } = await quiet(["report", "--results", join(results, "none"), "--no-allure"]);
    expect(code).to.equal(2);
    expect(text).to.include("no Allure results");
  });
});
