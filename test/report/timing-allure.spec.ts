import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import { main } from "../../harness/cli/main.js";
import { TIMING_SAMPLES_ENV } from "../../harness/mocha/timing-hooks.js";
import { appendNight, HIL_HISTORY_FILE, NIGHT_FORMAT } from "../../harness/report/night-history.js";
import {
  DEFAULT_DRIFT,
  type OperationTrend,
  summariseTiming,
  timingTrends,
} from "../../harness/report/operation-timing.js";
import { readResults } from "../../harness/report/results.js";
import {
  DRIFT_TAG,
  isTimingResult,
  TIMING_LABEL,
  TIMING_RESULTS_DIR,
  TIMING_SECTION,
  timingResultFiles,
} from "../../harness/report/timing-allure.js";
import { trendChart } from "../../harness/report/timing-report.js";

interface RawResult {
  uuid: string;
  name: string;
  fullName: string;
  status: string;
  start: number;
  stop: number;
  labels: { name: string; value: string }[];
  parameters: { name: string; value: string; excluded?: boolean }[];
  attachments: { name: string; source: string; type: string }[];
  description: string;
  descriptionHtml: string;
}

/** Ten nights of lab-l432: page erase 6 % slower each night from the sixth, block program steady. */
function tenNights(): { at: string; timing: ReturnType<typeof summariseTiming> }[] {
  return Array.from({ length: 10 }, (_, n) => ({
    at: new Date(Date.UTC(2026, 0, 1 + n, 2)).toISOString(),
    timing: summariseTiming(
      [
        { board: "lab-l432", op: "page erase", units: 8, ms: 8 * 22 * (n < 5 ? 1 : 1.06 ** (n - 4)) },
        { board: "lab-l432", op: "block program", units: 64, ms: 64 * 0.2 },
      ],
      () => ({ family: "stm32l432", emulated: false }),
    ),
  }));
}

function parse(t: OperationTrend): { result: RawResult; files: Map<string, string> } {
  const files = new Map(
    timingResultFiles(t, 1_700_000_000_000, DEFAULT_DRIFT).map((f) => [f.name, f.content]),
  );
  const json = [...files].find(([name]) => name.endsWith("-result.json"))?.[1];
  return { result: JSON.parse(json as string) as RawResult, files };
}

describe("report: operation timing as Allure results", () => {
  const trends = timingTrends(tenNights(), DEFAULT_DRIFT, (_, op) => (op === "page erase" ? 22 : undefined));
  const erase = trends.find((t) => t.op === "page erase") as OperationTrend;
  const program = trends.find((t) => t.op === "block program") as OperationTrend;

  it("one result per board and operation, in its own section, passed whatever the drift", () => {
    expect([erase.drift, program.drift]).to.deep.equal([true, false]);
    for (const t of [erase, program]) {
      const { result } = parse(t);
      expect(result.status).to.equal("passed");
      const labels = (name: string) => result.labels.filter((l) => l.name === name).map((l) => l.value);
      expect(labels("parentSuite")).to.deep.equal([TIMING_SECTION]);
      expect(labels("suite")).to.deep.equal(["lab-l432"]);
      expect(labels(TIMING_LABEL)).to.deep.equal([t.op]);
      expect(labels("tag").includes(DRIFT_TAG)).to.equal(t.drift);
      expect(isTimingResult({ labels: result.labels })).to.equal(true);
    }
  });

  it("says the drift in the name and description, the figures as parameters outside the history id", () => {
    const { result } = parse(erase);
    expect(result.name).to.match(/^page erase on lab-l432: drift \+\d+\.\d %$/);
    expect(result.description).to.match(
      /^\*\*Drift\*\*: page erase on lab-l432 is \d+\.\d % slower than its earlier nights\./,
    );
    expect(result.descriptionHtml).to.include("<strong>Drift</strong>");
    const params = Object.fromEntries(result.parameters.map((p) => [p.name, p]));
    expect(params.board).to.deep.equal({ name: "board", value: "lab-l432" });
    expect(params.operation).to.deep.equal({ name: "operation", value: "page erase" });
    // This night 22 × 1.06^5, the nine before from 22 to 22 × 1.06^4, the emulator's 22.
    expect(params["this night"]?.value).to.equal((22 * 1.06 ** 5).toFixed(2));
    expect(params["range before"]?.value).to.equal(`22.00–${(22 * 1.06 ** 4).toFixed(2)}`);
    expect(params.emulator?.value).to.equal("22.00");
    expect(params.nights?.value).to.equal("10");
    // The last five nights' median 22 × 1.06^3 against the first five's 22.
    expect(params.change?.value).to.equal(`+${((1.06 ** 3 - 1) * 100).toFixed(1)} %`);
    expect(result.description).to.include("| history median (ms/unit) | 22.00 |");
    for (const p of result.parameters)
      expect(p.excluded ?? false).to.equal(!["board", "operation"].includes(p.name));
    expect(parse(program).result.name).to.equal("block program on lab-l432");
    expect(parse(program).result.description).to.match(/^No drift\./);
  });

  it("attaches the chart of the nights as SVG, and keeps its file names from night to night", () => {
    const { result, files } = parse(erase);
    expect(result.attachments).to.have.length(1);
    const [chart] = result.attachments;
    expect(chart?.type).to.equal("image/svg+xml");
    expect(files.get(chart?.source as string)).to.equal(trendChart(erase));
    expect(files.get(chart?.source as string)).to.include('stroke="#c0392b"');
    const fewer = timingTrends(tenNights().slice(0, 8))[1] as OperationTrend;
    expect(fewer.op).to.equal("page erase");
    expect(parse(fewer).result.uuid).to.equal(result.uuid);
    expect(parse(program).result.uuid).not.to.equal(result.uuid);
  });
});

/** `hil report` around the timing results: the run's results untouched, the verdicts blind to them. */
describe("hil report: timing results beside the run's", function () {
  this.timeout(60_000);
  let dir: string;
  const saved = process.env[TIMING_SAMPLES_ENV];

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "hil-timing-allure-"));
    delete process.env[TIMING_SAMPLES_ENV];
  });
  afterEach(async () => {
    if (saved === undefined) delete process.env[TIMING_SAMPLES_ENV];
    else process.env[TIMING_SAMPLES_ENV] = saved;
    await rm(dir, { recursive: true, force: true });
  });

  const testResult = (name: string, status: string, extra: Record<string, unknown> = {}) => ({
    uuid: name,
    historyId: name,
    name,
    fullName: `suites/x.spec.ts: ${name}`,
    status,
    start: 1,
    stop: 2,
    labels: [
      { name: "rig", value: "lab" },
      { name: "board", value: "lab-l432" },
      { name: "family", value: "stm32l432" },
      { name: "clause", value: "AN3156: Erase" },
    ],
    parameters: [],
    ...extra,
  });

  /** A run of one passed and one failed test, nine nights of history and tonight's samples beside the results. */
  async function night(): Promise<{ results: string; out: string }> {
    const results = join(dir, "allure-results");
    const out = join(dir, "reports");
    await mkdir(results, { recursive: true });
    await writeFile(join(results, "a-result.json"), JSON.stringify(testResult("erases", "passed")));
    await writeFile(
      join(results, "b-result.json"),
      JSON.stringify(
        testResult("programs", "failed", {
          statusDetails: { message: "expected 0xff", trace: "AssertionError: expected 0xff" },
        }),
      ),
    );
    const nights = tenNights();
    for (const n of nights.slice(0, 9))
      await appendNight(join(out, HIL_HISTORY_FILE), { format: NIGHT_FORMAT, ...n });
    const line = (op: string, units: number, ms: number) =>
      JSON.stringify({ board: "lab-l432", op, units, ms, family: "stm32l432", emulated: false });
    await writeFile(
      join(dir, "timing-samples.jsonl"),
      [line("page erase", 8, 8 * 22 * 1.06 ** 5), line("block program", 64, 64 * 0.2)].join("\n"),
    );
    return { results, out };
  }

  async function report(args: string[]): Promise<{ code: number; text: string }> {
    const log = console.log;
    const error = console.error;
    const lines: string[] = [];
    console.log = (...a: unknown[]) => lines.push(a.join(" "));
    console.error = (...a: unknown[]) => lines.push(a.join(" "));
    try {
      const code = await main(["report", "--no-allure", ...args]);
      return { code, text: lines.join("\n") };
    } finally {
      console.log = log;
      console.error = error;
    }
  }

  /** The run's result and attachment files with their contents (environment.properties is the report's own). */
  async function snapshot(results: string): Promise<Record<string, string>> {
    const names = (await readdir(results)).filter((n) => n !== "environment.properties").sort();
    return Object.fromEntries(
      await Promise.all(names.map(async (n) => [n, await readFile(join(results, n), "utf8")])),
    );
  }

  it("writes one result per board and operation into its own directory, leaving the run's results as they were", async () => {
    const { results, out } = await night();
    const before = await snapshot(results);
    for (let i = 0; i < 2; i++) expect((await report(["--results", results, "--out", out])).code).to.equal(0);
    expect(await snapshot(results)).to.deep.equal(before);
    const names = (await readdir(join(out, TIMING_RESULTS_DIR))).sort();
    // Two reports, still one result and one chart per operation: the directory is rewritten, not added to.
    expect(names.filter((n) => n.endsWith("-result.json"))).to.have.length(2);
    expect(names.filter((n) => n.endsWith("-attachment.svg"))).to.have.length(2);
    const written = await Promise.all(
      names
        .filter((n) => n.endsWith("-result.json"))
        .map(async (n) => JSON.parse(await readFile(join(out, TIMING_RESULTS_DIR, n), "utf8")) as RawResult),
    );
    expect(written.map((r) => r.name).sort()).to.deep.members([
      "block program on lab-l432",
      written.find((r) => r.name.startsWith("page erase"))?.name as string,
    ]);
    expect(written.find((r) => r.name.startsWith("page erase"))?.name).to.match(/: drift \+/);
    // Placed at the end of the run's last test (stop 2), not at the report's time.
    for (const r of written) expect([r.start, r.stop]).to.deep.equal([2, 2]);
  });

  it("no reader of results counts them: same matrix, JUnit file and gate with the timing directory given as results", async () => {
    const { results, out } = await night();
    const gate = ["--gate", "--min-success-rate", "0.6"];
    const alone = await report(["--results", results, "--out", out, ...gate]);
    // 1 of 2 passed: the gate fails on the run's own results.
    expect(alone.code).to.equal(3);
    expect(alone.text).to.include("success rate 50.0% below 60.0%");
    const matrix = await readFile(join(out, "qualification-matrix.md"), "utf8");
    const junit = await readFile(join(out, "junit.xml"), "utf8");
    expect(junit).to.include('tests="2"');

    const timingDir = join(out, TIMING_RESULTS_DIR);
    expect((await readResults(timingDir)).length).to.equal(0);
    const out2 = join(dir, "reports-2");
    const both = await report(["--results", results, "--results", timingDir, "--out", out2, ...gate]);
    expect(both.code).to.equal(3);
    expect(both.text).to.include("hil report: 2 results, 1 failed");
    expect(both.text).to.include("success rate 50.0% below 60.0%");
    expect(await readFile(join(out2, "qualification-matrix.md"), "utf8")).to.equal(matrix);
    expect(await readFile(join(out2, "junit.xml"), "utf8")).to.equal(junit);
  });
});
