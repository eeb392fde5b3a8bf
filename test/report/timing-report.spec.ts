import { execFile } from "node:child_process";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { expect } from "chai";
import { main } from "../../harness/cli/main.js";
import { TIMING_SAMPLES_ENV } from "../../harness/mocha/timing-hooks.js";
import {
  appendNight,
  HIL_HISTORY_FILE,
  NIGHT_FORMAT,
  readNights,
} from "../../harness/report/night-history.js";
import { summariseTiming } from "../../harness/report/operation-timing.js";
import { CHART } from "../../harness/report/timing-report.js";
import { CHROMIUM_FLAGS, chromium } from "./chromium.js";

const run = promisify(execFile);

/** `hil report` keeps each night's operation timing in the hil history and shows drift on its timing page. */
describe("hil report: operation timing night by night", function () {
  this.timeout(120_000);
  let dir: string;
  const saved = process.env[TIMING_SAMPLES_ENV];

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "hil-timing-report-"));
    delete process.env[TIMING_SAMPLES_ENV];
  });
  afterEach(async () => {
    if (saved === undefined) delete process.env[TIMING_SAMPLES_ENV];
    else process.env[TIMING_SAMPLES_ENV] = saved;
    await rm(dir, { recursive: true, force: true });
  });

  /** 19 nights of two boards: lab-l432's page erase 2 % slower each night from the 9th, lab-wb55's steady. */
  async function pastNights(out: string): Promise<void> {
    for (let n = 0; n < 19; n++) {
      const slow = n < 8 ? 1 : 1.02 ** (n - 7);
      await appendNight(join(out, HIL_HISTORY_FILE), {
        format: NIGHT_FORMAT,
        at: new Date(Date.UTC(2026, 0, 1 + n, 2)).toISOString(),
        timing: summariseTiming(
          [
            { board: "lab-l432", op: "page erase", units: 8, ms: 8 * 22 * slow },
            { board: "lab-wb55", op: "page erase", units: 8, ms: 8 * 24.5 },
          ],
          (b) => ({ family: b === "lab-l432" ? "stm32l432" : "stm32wb55", emulated: false }),
        ),
      });
    }
  }

  async function report(
    results: string,
    out: string,
    more: string[] = [],
  ): Promise<{ code: number; text: string }> {
    const log = console.log;
    const err = console.error;
    const lines: string[] = [];
    console.log = (...a: unknown[]) => lines.push(a.join(" "));
    console.error = (...a: unknown[]) => lines.push(a.join(" "));
    try {
      const code = await main(["report", "--results", results, "--out", out, "--no-allure", ...more]);
      return { code, text: lines.join("\n") };
    } finally {
      console.log = log;
      console.error = err;
    }
  }

  it("--drift sets the lab's own threshold: 30 % over 5 nights lets the 2 %-a-night erase pass, 10 % over 3 flags it", async () => {
    const results = join(dir, "allure-results");
    await mkdir(results, { recursive: true });
    await writeFile(
      join(results, "a-result.json"),
      JSON.stringify({ uuid: "a", historyId: "a", name: "erases", status: "passed", start: 1, stop: 2 }),
    );
    await writeFile(
      join(dir, "timing-samples.jsonl"),
      `${JSON.stringify({ board: "lab-l432", op: "page erase", units: 8, ms: 8 * 22 * 1.02 ** 12, family: "stm32l432", emulated: false })}\n`,
    );
    const tolerant = join(dir, "tolerant");
    await pastNights(tolerant);
    const loose = await report(results, tolerant, ["--drift", "0.3"]);
    expect(loose.code).to.equal(0);
    expect(loose.text).not.to.include("drift on");
    const strict = join(dir, "strict");
    await pastNights(strict);
    const tight = await report(results, strict, ["--drift", "0.1/3"]);
    expect(tight.text).to.match(/timing: drift on lab-l432: page erase \d+\.\d % slower/);
    const bad = await report(results, join(dir, "bad"), ["--drift", "ten"]);
    expect(bad.code).to.equal(2);
    expect(bad.text).to.include("--drift: expected FRACTION[/NIGHTS]");
    expect(bad.text).to.include("got 'ten'");
  });

  it("appends the night's timing with the boards' identity, flags the drifting erase only, and charts it", async () => {
    const results = join(dir, "allure-results");
    const out = join(dir, "reports");
    await pastNights(out);
    await mkdir(results, { recursive: true });
    await writeFile(
      join(results, "a-result.json"),
      JSON.stringify({
        uuid: "a",
        historyId: "a",
        name: "erases",
        fullName: "suites/x.spec.ts: erases",
        status: "passed",
        start: 1,
        stop: 2,
        labels: [{ name: "board", value: "lab-l432" }],
        parameters: [],
      }),
    );
    // What `hil run` leaves beside the results: this night's samples (L432 now 1.02^12 slower).
    const line = (board: string, family: string, op: string, units: number, ms: number, extra = {}) =>
      JSON.stringify({ board, op, units, ms, family, emulated: false, ...extra });
    await writeFile(
      join(dir, "timing-samples.jsonl"),
      [
        line("lab-l432", "stm32l432", "page erase", 8, 8 * 22 * 1.02 ** 12, {
          identity: { bootloader: "0x91", pid: "0x435" },
        }),
        line("lab-l432", "stm32l432", "block program", 128, 128 * 0.2),
        line("lab-wb55", "stm32wb55", "page erase", 8, 8 * 24.5, { identity: { bootloader: "0xd5" } }),
        // lab-wb55 ran with its emulated twin: the twin's erase is the emulator's figure for it.
        line("lab-wb55-twin", "stm32wb55", "page erase", 8, 8 * 25, { twinOf: "lab-wb55" }),
      ].join("\n"),
    );
    const { code, text } = await report(results, out);
    expect(code).to.equal(0);
    expect(text).to.match(/timing: drift on lab-l432: page erase \d+\.\d % slower/);
    expect(text).not.to.include("drift on lab-wb55");

    const nights = await readNights(join(out, HIL_HISTORY_FILE));
    expect(nights).to.have.length(20);
    const tonight = nights[19]?.timing;
    expect(
      tonight?.map((b) => [b.board, b.family, b.emulated, b.identity, b.twinOf, Object.keys(b.ops)]),
    ).to.deep.equal([
      [
        "lab-l432",
        "stm32l432",
        false,
        { bootloader: "0x91", pid: "0x435" },
        undefined,
        ["block program", "page erase"],
      ],
      ["lab-wb55", "stm32wb55", false, { bootloader: "0xd5" }, undefined, ["page erase"]],
      ["lab-wb55-twin", "stm32wb55", false, undefined, "lab-wb55", ["page erase"]],
    ]);
    expect(tonight?.[0]?.ops["page erase"]?.msPerUnit).to.be.closeTo(22 * 1.02 ** 12, 0.01);

    const md = await readFile(join(out, "timing.md"), "utf8");
    expect(md).to.include("Drift on: lab-l432 page erase.");
    // The emulator's figure beside the lab's: the twin's where it ran, else the profile's 22 ms a page.
    expect(md).to.match(
      /\| lab-wb55 \| page erase \| 20 \| 24\.50 \| 24\.50 \| 24\.50–24\.50 \| 25\.00 \| \+0\.0 % \| {2}\|/,
    );
    expect(md).to.match(
      /\| lab-l432 \| page erase \| 20 \| 27\.90 \| [\d.]+ \| 22\.00–[\d.]+ \| 22\.00 \| \+[\d.]+ % \| DRIFT \|/,
    );
    const html = await readFile(join(out, "timing.html"), "utf8");
    expect(html.match(/<svg /g)).to.have.length(4);

    // In a real browser: every chart drawn at its size, the drifting one's line red.
    const browser = await chromium();
    if (!browser) return; // Debian package `chromium` not installed: the file checks above stand
    const page = join(dir, "timing-check.html");
    await writeFile(
      page,
      html.replace(
        "</body>",
        `<pre id="out"></pre><script>
const charts = [...document.querySelectorAll("svg.timing-chart")].map((svg) => {
  const r = svg.getBoundingClientRect(), line = svg.querySelector("polyline").getBBox();
  return { row: svg.closest("tr").dataset.board + " " + svg.closest("tr").dataset.op, w: r.width, h: r.height,
    lineW: line.width, colour: getComputedStyle(svg.querySelector("polyline")).stroke };
});
document.getElementById("out").textContent = JSON.stringify(charts);
</script></body>`,
      ),
    );
    const dom = (
      await run(browser, [...CHROMIUM_FLAGS, "--virtual-time-budget=10000", "--dump-dom", `file://${page}`])
    ).stdout;
    const charts = JSON.parse(/<pre id="out">([^<]*)<\/pre>/.exec(dom)?.[1] ?? "[]") as {
      row: string;
      w: number;
      h: number;
      lineW: number;
      colour: string;
    }[];
    expect(charts.map((c) => c.row)).to.deep.equal([
      "lab-l432 block program",
      "lab-l432 page erase",
      "lab-wb55 page erase",
      "lab-wb55-twin page erase",
    ]);
    for (const c of charts) expect([c.w, c.h]).to.deep.equal([CHART.width, CHART.height]);
    // The erase chart spans its 20 nights across the picture; one night is a dot.
    expect(charts[1]?.lineW).to.be.closeTo(CHART.width - 2 * CHART.pad, 1);
    expect(charts[0]?.lineW).to.equal(0);
    expect(charts[1]?.colour).to.equal("rgb(192, 57, 43)");
    expect(charts[2]?.colour).to.equal("rgb(44, 127, 184)");
  });
});
