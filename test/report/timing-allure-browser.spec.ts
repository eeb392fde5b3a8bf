import { execFile } from "node:child_process";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { expect } from "chai";
import { main } from "../../harness/cli/main.js";
import { TIMING_SAMPLES_ENV } from "../../harness/mocha/timing-hooks.js";
import { appendNight, HIL_HISTORY_FILE, NIGHT_FORMAT } from "../../harness/report/night-history.js";
import { summariseTiming } from "../../harness/report/operation-timing.js";
import { TIMING_SECTION } from "../../harness/report/timing-allure.js";
import { CHART } from "../../harness/report/timing-report.js";
import { CHROMIUM_FLAGS, chromium } from "./chromium.js";

const run = promisify(execFile);

/** Page erase on lab-l432 on night n (0-based): steady for five nights, then 6 % slower each night. */
const eraseMs = (n: number) => 22 * (n < 5 ? 1 : 1.06 ** (n - 4));

/** What the page script below reports once it has opened the chart attachment. */
interface Drawn {
  done: boolean;
  tags: string[];
  img?: { w: number; h: number; svg: string };
}

/**
 * The script put into a copy of the report: opens the result's chart attachment as a person
 * clicks it, then reports the tags shown and the image drawn (its size and its SVG text).
 */
const OPEN_CHART = `<pre id="hil-out"></pre><script>
(function () {
  const out = document.getElementById("hil-out");
  let clicked = false;
  const tick = async () => {
    const button = [...document.querySelectorAll("button")].find((b) => b.textContent.includes("ms per unit over"));
    if (button && !clicked) { button.click(); clicked = true; }
    const tags = [...document.querySelectorAll("span")].map((s) => s.textContent.trim()).filter((t) => t === "drift" || t === "timing");
    const img = [...document.querySelectorAll("img")].find((i) => i.src.startsWith("blob:") && i.naturalWidth > 0);
    if (img) {
      const svg = await (await fetch(img.src)).text();
      out.textContent = JSON.stringify({ done: true, tags, img: { w: img.naturalWidth, h: img.naturalHeight, svg } });
      return;
    }
    out.textContent = JSON.stringify({ done: false, tags });
    setTimeout(tick, 200);
  };
  setTimeout(tick, 200);
})();
</script>`;

/**
 * The timing inside the single-file Allure report as a person opens it: ten nights of a lab
 * board whose page erase slows down, `hil report` with the Allure CLI, headless Chromium.
 */
describe("hil report: operation timing in the Allure report, rendered in a browser", function () {
  this.timeout(240_000);
  let browser: string | undefined;
  let dir: string;
  let out: string;
  const saved = process.env[TIMING_SAMPLES_ENV];

  async function report(args: string[]): Promise<string> {
    const log = console.log;
    const lines: string[] = [];
    console.log = (...a: unknown[]) => lines.push(a.join(" "));
    try {
      expect(await main(["report", ...args])).to.equal(0);
      return lines.join("\n");
    } finally {
      console.log = log;
    }
  }

  before(async function () {
    browser = await chromium();
    if (!browser) this.skip(); // Debian package `chromium` not installed
    delete process.env[TIMING_SAMPLES_ENV];
    dir = await mkdtemp(join(tmpdir(), "hil-timing-allure-browser-"));
    out = join(dir, "reports");
    const results = join(dir, "allure-results");
    await mkdir(results, { recursive: true });
    await writeFile(
      join(results, "a-result.json"),
      JSON.stringify({
        uuid: "a",
        historyId: "a",
        name: "erases the pages it writes",
        fullName: "suites/dfu.spec.ts: erases the pages it writes",
        status: "passed",
        start: 1_700_000_000_000,
        stop: 1_700_000_000_400,
        labels: [
          { name: "parentSuite", value: "dfu: erase" },
          { name: "rig", value: "lab" },
          { name: "board", value: "lab-l432" },
          { name: "family", value: "stm32l432" },
          { name: "clause", value: "AN3156: Erase" },
        ],
        parameters: [],
      }),
    );
    for (let n = 0; n < 9; n++)
      await appendNight(join(out, HIL_HISTORY_FILE), {
        format: NIGHT_FORMAT,
        at: new Date(Date.UTC(2026, 0, 1 + n, 2)).toISOString(),
        timing: summariseTiming(
          [
            { board: "lab-l432", op: "page erase", units: 8, ms: 8 * eraseMs(n) },
            { board: "lab-l432", op: "block program", units: 64, ms: 64 * 0.2 },
          ],
          () => ({ family: "stm32l432", emulated: false }),
        ),
      });
    // Tonight, the tenth night, as `hil run` leaves it beside the results.
    const line = (op: string, units: number, ms: number) =>
      JSON.stringify({ board: "lab-l432", op, units, ms, family: "stm32l432", emulated: false });
    await writeFile(
      join(dir, "timing-samples.jsonl"),
      [line("page erase", 8, 8 * eraseMs(9)), line("block program", 64, 64 * 0.2)].join("\n"),
    );
    const text = await report(["--results", results, "--out", out]);
    expect(text).to.match(/timing: drift on lab-l432: page erase/);
    // The same run without its timing: the matrix must not change.
    await rm(join(dir, "timing-samples.jsonl"));
    await report(["--results", results, "--out", join(dir, "no-timing"), "--no-allure"]);
  });

  after(async () => {
    if (saved === undefined) delete process.env[TIMING_SAMPLES_ENV];
    else process.env[TIMING_SAMPLES_ENV] = saved;
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const dom = async (url: string, budgetMs: number) =>
    (
      await run(
        browser as string,
        [...CHROMIUM_FLAGS, `--virtual-time-budget=${budgetMs}`, "--dump-dom", url],
        {
          maxBuffer: 64 * 1024 * 1024,
        },
      )
    ).stdout;

  /** The report's result ids by name (the report's own index of its results). */
  async function resultIds(): Promise<Map<string, string>> {
    const index = JSON.parse(await readFile(join(out, "allure-report", "test-results.json"), "utf8")) as {
      byId: Record<string, { name: string }>;
    };
    return new Map(Object.entries(index.byId).map(([id, r]) => [r.name, id]));
  }

  /** Opens result `id`, clicks its chart open; a loaded machine gets more virtual time, up to three tries. */
  async function openChart(id: string): Promise<Drawn> {
    const page = join(out, "allure-report", "check.html");
    const html = await readFile(join(out, "allure-report", "index.html"), "utf8");
    const end = html.lastIndexOf("</body>");
    await writeFile(page, `${html.slice(0, end)}${OPEN_CHART}${html.slice(end)}`);
    let drawn: Drawn = { done: false, tags: [] };
    for (const budget of [15_000, 30_000, 60_000]) {
      const text = /<pre id="hil-out">([^<]*)<\/pre>/.exec(await dom(`file://${page}#/${id}`, budget))?.[1];
      drawn = JSON.parse(
        (text || '{"done":false,"tags":[]}')
          .replace(/&quot;/g, '"')
          .replace(/&lt;/g, "<")
          .replace(/&gt;/g, ">")
          .replace(/&amp;/g, "&"),
      ) as Drawn;
      if (drawn.done) break;
    }
    return drawn;
  }

  it("lists the timing section beside the run's suites", async () => {
    let html = "";
    for (const budget of [15_000, 30_000, 60_000]) {
      html = await dom(`file://${join(out, "allure-report", "index.html")}`, budget);
      if (html.includes(`>${TIMING_SECTION}</span>`)) break;
    }
    expect(html).to.include(`>${TIMING_SECTION}</span>`);
    expect(html).to.include(">dfu: erase</span>");
  });

  it("shows the drifting operation tagged drift, with its chart of the ten nights drawn red", async () => {
    const ids = await resultIds();
    const name = [...ids.keys()].find((n) => n.startsWith("page erase on lab-l432"));
    expect(name).to.match(/^page erase on lab-l432: drift \+\d+\.\d %$/);
    const drawn = await openChart(ids.get(name as string) as string);
    expect(drawn.done, "the chart attachment was drawn").to.equal(true);
    expect(drawn.tags).to.include.members(["timing", "drift"]);
    expect([drawn.img?.w, drawn.img?.h]).to.deep.equal([CHART.width, CHART.height]);
    expect(drawn.img?.svg).to.include("<title>lab-l432 page erase: 10 nights");
    expect(drawn.img?.svg).to.include('stroke="#c0392b"');
    // Ten points, one per night.
    expect(/points="([^"]*)"/.exec(drawn.img?.svg ?? "")?.[1]?.split(" ")).to.have.length(10);
  });

  it("shows the steady operation without the drift tag, its chart blue", async () => {
    const ids = await resultIds();
    const id = ids.get("block program on lab-l432");
    expect(id).to.be.a("string");
    const drawn = await openChart(id as string);
    expect(drawn.done, "the chart attachment was drawn").to.equal(true);
    expect(drawn.tags).to.include("timing");
    expect(drawn.tags).not.to.include("drift");
    expect(drawn.img?.svg).to.include('stroke="#2c7fb8"');
  });

  it("leaves the qualification matrix and the run's failures as they were without the timing", async () => {
    for (const file of ["qualification-matrix.md", "qualification-matrix.html", "junit.xml"])
      expect(await readFile(join(out, file), "utf8"), file).to.equal(
        await readFile(join(dir, "no-timing", file), "utf8"),
      );
    const summary = JSON.parse(await readFile(join(out, "allure-report", "summary.json"), "utf8")) as {
      status: string;
      stats: Record<string, number>;
    };
    expect(summary.status).to.equal("passed");
    expect([summary.stats.failed ?? 0, summary.stats.broken ?? 0]).to.deep.equal([0, 0]);
  });
});
