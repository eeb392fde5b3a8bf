import { execFile } from "node:child_process";
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { expect } from "chai";
import { main } from "../../harness/cli/main.js";
import { renderTimelineSvg } from "../../harness/report/timeline.js";
import { CHROMIUM_FLAGS, chromium } from "./chromium.js";

const run = promisify(execFile);

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
        [...CHROMIUM_FLAGS, `--virtual-time-budget=${budgetMs}`, "--dump-dom", `file://${file}`],
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
      ...CHROMIUM_FLAGS,
      "--window-size=1200,800",
      `--screenshot=${png}`,
      `file://${join(dir, "qualification-matrix.html")}`,
    ]);
    expect((await stat(png)).size).to.be.greaterThan(1000);
  });

  it("the timeline picture: every label readable, none overlapping another, faults and client operations named", async () => {
    // A DFU download cut by an injected errPROG, as the device, the power and the client log it.
    const events: { t: number; kind: string; detail: string }[] = [
      { t: 0, kind: "state", detail: "bootloader" },
      { t: 0, kind: "boot", detail: "BOOT0 high" },
      { t: 102.128, kind: "usb", detail: 'enumerated 0483:df11 "STM32 BOOTLOADER" address 1' },
    ];
    for (let i = 0; i < 12; i++) {
      events.push({ t: 110 + i * 9, kind: "dfu state", detail: "dfuDNBUSY" });
      events.push({
        t: 114 + i * 9,
        kind: "dfu state",
        detail: i === 11 ? "dfuERROR errPROG" : "dfuDNLOAD-IDLE",
      });
      events.push({
        t: 112 + i * 9,
        kind: "dfu",
        detail: `write 0x${(0x08000000 + i * 2048).toString(16)}+2048`,
      });
    }
    const svg = renderTimelineSvg({
      title:
        "l432-0: errPROG (Program memory function failed) for DNLOAD block 3: the client stops naming it, the block is not written, CLRSTATUS and a second download recover",
      events,
      power: [{ t: 0, event: "on" }],
      faults: [{ t: 213, detail: "event dfu.dnload.block #12", what: "dfu-status-errPROG" }],
      operations: [
        {
          title: "download 24576 bytes → errPROG (expected)",
          start: 105,
          end: 215,
          depth: 0,
          outcome: "expected",
        },
        { title: "erase 12 pages", start: 105, end: 109, depth: 1, outcome: "ok" },
        {
          title: "download 12 blocks → errPROG (expected)",
          start: 109,
          end: 215,
          depth: 1,
          outcome: "expected",
        },
      ],
      wallMs: 40,
    });
    // The page measures what the browser drew: each label's box, then every pair that overlaps.
    const page = join(dir, "timeline.html");
    await writeFile(
      page,
      `<!doctype html><html><body style="margin:0">${svg}<pre id="out"></pre><script>
const svg = document.querySelector("svg");
const width = Number(svg.getAttribute("width"));
const boxes = [...svg.querySelectorAll("text")].map((t) => ({ text: t.textContent, b: t.getBBox() }));
const overlaps = [];
for (let i = 0; i < boxes.length; i++)
  for (let j = i + 1; j < boxes.length; j++) {
    const a = boxes[i].b, b = boxes[j].b;
    if (a.x < b.x + b.width - 0.5 && b.x < a.x + a.width - 0.5 && a.y < b.y + b.height - 0.5 && b.y < a.y + a.height - 0.5)
      overlaps.push(boxes[i].text + " | " + boxes[j].text);
  }
const outside = boxes.filter(({ b }) => b.x < 0 || b.x + b.width > width).map(({ text }) => text);
document.getElementById("out").textContent = JSON.stringify({ texts: boxes.map((x) => x.text), overlaps, outside });
</script></body></html>`,
    );
    const html = await dom(page);
    const json = /<pre id="out">([^<]*)<\/pre>/.exec(html)?.[1] ?? "{}";
    const drawn = JSON.parse(
      json
        .replace(/&amp;/g, "&")
        .replace(/&lt;/g, "<")
        .replace(/&gt;/g, ">")
        .replace(/&quot;/g, '"'),
    ) as {
      texts: string[];
      overlaps: string[];
      outside: string[];
    };
    expect(drawn.overlaps, "labels drawn over each other").to.deep.equal([]);
    expect(drawn.outside, "labels past the picture's edge").to.deep.equal([]);
    expect(drawn.texts).to.include.members(["client", "dfu state", "dfu-status-errPROG", "100 ms", "200 ms"]);
    expect(drawn.texts.some((t) => t.startsWith("download 24576 bytes"))).to.equal(true);
    expect(
      drawn.texts.filter((t) => /^\d+\.\d{3} ms$/.test(t)),
      "unround axis ticks",
    ).to.deep.equal([]);
    const png = join(dir, "timeline.png");
    await run(browser as string, [
      ...CHROMIUM_FLAGS,
      "--window-size=980,420",
      `--screenshot=${png}`,
      `file://${page}`,
    ]);
    expect((await stat(png)).size).to.be.greaterThan(1000);
    if (process.env.HIL_KEEP_SCREENSHOTS)
      await writeFile(join(process.env.HIL_KEEP_SCREENSHOTS, "timeline.png"), await readFile(png));
  });
});
