import { execFile } from "node:child_process";
import { mkdir, mkdtemp, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { expect } from "chai";
import { main } from "../../harness/cli/main.js";

const run = promisify(execFile);
const FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

async function chromium(): Promise<string | undefined> {
  for (const name of ["chromium", "chromium-browser"]) {
    try {
      await run(name, ["--version"]);
      return name;
    } catch {
      // not installed under this name
    }
  }
  return undefined;
}

/**
 * The generated report and matrix as a person opens them: headless Chromium renders the
 * single-file Allure report and the matrix page of a small known run.
 */
describe("report: rendered in a browser", function () {
  this.timeout(120_000);
  let browser: string | undefined;
  let dir: string;

  before(async function () {
    browser = await chromium();
    if (!browser) this.skip(); // Debian package `chromium` not installed
    dir = await mkdtemp(join(tmpdir(), "hil-report-browser-"));
    const results = join(dir, "allure-results");
    await mkdir(results, { recursive: true });
    const result = (name: string, status: string, suite: string, extra: Record<string, unknown> = {}) => ({
      uuid: name,
      historyId: name,
      name,
      fullName: `suites/x.spec.ts: ${name}`,
      status,
      start: 1_700_000_000_000,
      stop: 1_700_000_000_400,
      labels: [
        { name: "parentSuite", value: suite },
        { name: "rig", value: "emulated" },
        { name: "board", value: "wb55-0" },
        { name: "clause", value: "AN3155: Go (0x21)" },
      ],
      parameters: [],
      ...extra,
    });
    await writeFile(
      join(results, "a-result.json"),
      JSON.stringify(result("jumps to the app", "passed", "usart: go")),
    );
    await writeFile(
      join(results, "b-result.json"),
      JSON.stringify(
        result("lab lost", "broken", "usart: lab", {
          statusDetails: { message: "hub gone", trace: "InfrastructureError: hub gone" },
        }),
      ),
    );
    const log = console.log;
    console.log = () => {};
    try {
      expect(await main(["report", "--results", results, "--out", dir])).to.equal(0);
    } finally {
      console.log = log;
    }
  });

  after(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const dom = async (file: string, budgetMs = 10_000) =>
    (
      await run(
        browser as string,
        [...FLAGS, `--virtual-time-budget=${budgetMs}`, "--dump-dom", `file://${file}`],
        {
          maxBuffer: 64 * 1024 * 1024,
        },
      )
    ).stdout;
  /** The page's DOM once it shows `text`; a loaded machine gets more virtual time, up to three tries. */
  const domShowing = async (file: string, text: string) => {
    let html = "";
    for (const budget of [10_000, 20_000, 40_000]) {
      html = await dom(file, budget);
      if (html.includes(text)) break;
    }
    return html;
  };

  it("the single-file Allure report lists the suites and the infrastructure category", async () => {
    const html = await domShowing(join(dir, "allure-report", "index.html"), "usart: lab");
    expect(html).to.include("usart: go");
    expect(html).to.include("usart: lab");
    const categories = await domShowing(
      `${join(dir, "allure-report", "index.html")}#/categories`,
      "Infrastructure (lab)",
    );
    expect(categories).to.include("Infrastructure (lab)");
  });

  it("the qualification matrix renders its clause row and leaves a screenshot", async () => {
    expect(await dom(join(dir, "qualification-matrix.html"))).to.include("<td>AN3155: Go (0x21)</td>");
    const png = join(dir, "matrix.png");
    await run(browser as string, [
      ...FLAGS,
      "--window-size=1200,800",
      `--screenshot=${png}`,
      `file://${join(dir, "qualification-matrix.html")}`,
    ]);
    expect((await stat(png)).size).to.be.greaterThan(1000);
  });
});
