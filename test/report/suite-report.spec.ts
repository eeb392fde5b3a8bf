import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { CategoryRule } from "@allurereport/core-api";
import { matchCategory, normalizeCategoriesConfig } from "@allurereport/core-api";
import { expect } from "chai";
import { acquireLease, type Lease } from "../../harness/lab/lease.js";
import { allureCategoryRules } from "../../harness/report/categories.js";
import { toJunitXml } from "../../harness/report/junit.js";
import { buildMatrix } from "../../harness/report/matrix.js";
import { type HilResult, readResults, settleResults } from "../../harness/report/results.js";
import { readRawResults, runAllureFixture } from "./run-fixture.js";

interface RawStep {
  name: string;
  status?: string;
  steps?: RawStep[];
  attachments?: { name: string; type: string }[];
}
interface RawResult {
  uuid: string;
  status: string;
  name: string;
  labels: { name: string; value: string }[];
  steps: RawStep[];
  parameters?: { name: string; value: string }[];
}

const FIXTURE = "test/report/fixtures/categories.fixture.ts";

/**
 * What forEachBoard puts into Allure results, read back as the reports read them: a child
 * mocha runs a fixture suite (one test per failure category) with allure-mocha.
 */
describe("report: results of a suite run", function () {
  this.timeout(60_000);
  let dir: string;
  let raw: RawResult[];
  let held: Lease | undefined;
  /** The result files as allure-mocha wrote them, before `settleResults`. */
  let written: RawResult[];
  let results: HilResult[];

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "report-suite-"));
    // Another run holds nor-held for the whole child run.
    held = await acquireLease("nor-held", { dir: join(dir, "leases"), owner: "another run" });
    await runAllureFixture(FIXTURE, dir, {
      failing: 5, // five tests fail on purpose
      env: {
        HIL_QUARANTINE: JSON.stringify({ "nor-lab": "uhubctl: hub 1-1 not found" }),
        HIL_LEASE_DIR: join(dir, "leases"),
        HIL_LEASE_TIMEOUT_MS: "0",
      },
    });
    const read = () => readRawResults<RawResult>(dir);
    written = await read();
    // What `hil report` does first: statuses from the categories, skip reasons as messages.
    await settleResults(dir);
    raw = await read();
    results = await readResults(dir);
  });

  after(async () => {
    await held?.release();
    await rm(dir, { recursive: true, force: true });
  });

  const byName = (name: string) => {
    const r = results.find((x) => x.name === name);
    expect(r, name).not.to.equal(undefined);
    return r as HilResult;
  };
  const rawByName = (name: string) => raw.find((x) => x.name === name) as RawResult;
  /** Attachments of a test: Allure 3 writes each as a step holding the attachment. */
  const attachments = (name: string): string[] => {
    const found: string[] = [];
    const walk = (steps: readonly RawStep[]): void => {
      for (const st of steps) {
        for (const at of st.attachments ?? []) found.push(`${at.name} ${at.type}`);
        walk(st.steps ?? []);
      }
    };
    walk(rawByName(name).steps);
    return found;
  };

  it("labels each failure with its category; passed and skipped carry none", () => {
    expect(byName("fails an assertion")).to.deep.include({ status: "failed", category: "firmware-device" });
    expect(byName("loses the lab")).to.deep.include({ status: "broken", category: "infrastructure" });
    expect(byName("breaks the harness")).to.deep.include({ status: "broken", category: "harness" });
    expect(byName("passes with power steps").category).to.equal(undefined);
    const failureLabels = (n: string) =>
      rawByName(n)
        .labels.filter((l) => l.name === "failure")
        .map((l) => l.value);
    expect(failureLabels("loses the lab")).to.deep.equal(["infrastructure"]);
    expect(failureLabels("passes with power steps")).to.deep.equal([]);
  });

  it("files a harness TypeError naming `assertErased` as harness, broken, in label, bundle, JUnit and matrix", async () => {
    const name = "breaks the harness in a helper named like an assertion";
    // allure-mocha guesses "failed" from /assert/i in the message; the category decides.
    expect(written.find((r) => r.name === name)?.status).to.equal("failed");
    expect(rawByName(name).status).to.equal("broken");
    expect(byName(name)).to.deep.include({ status: "broken", category: "harness" });
    expect(rawByName(name).labels.filter((l) => l.name === "failure")).to.deep.equal([
      { name: "failure", value: "harness" },
    ]);
    const id = (await readdir(join(dir, "repro"))).find((b) => b.includes("breaks-the-harness-in-a-helper"));
    const bundle = JSON.parse(await readFile(join(dir, "repro", String(id), "repro.json"), "utf8"));
    expect(bundle.category).to.equal("harness");
    const xml = toJunitXml(results);
    const testcase = xml.slice(xml.indexOf(`<testcase name="${name}"`));
    expect(testcase.slice(0, testcase.indexOf("</testcase>"))).to.match(
      /<error message="Cannot read properties of null \(reading &apos;assertErased&apos;\)" type="harness">/,
    );
    const m = buildMatrix({ documents: [{ document: "fixture", clauses: ["fixture clause C"] }] }, results);
    expect(m.rows[0]?.cells[0]).to.deep.include({ status: "broken" });
    expect(m.rows[0]?.cells[0]?.tests).to.deep.equal([{ name, status: "broken", category: "harness" }]);
    // The planted firmware fault (a chai assertion on a wrong state) stays the device's.
    expect(rawByName("fails an assertion").status).to.equal("failed");
  });

  it("the Allure report puts each planted failure in its own category (Allure's own rule engine)", () => {
    const rules = normalizeCategoriesConfig(allureCategoryRules() as unknown as CategoryRule[]);
    const categoryIn = (name: string) => {
      const r = byName(name);
      return matchCategory(rules, {
        status: r.status as "failed" | "broken",
        labels: r.labels,
        message: r.message,
        trace: r.trace,
        flaky: false,
      })?.id;
    };
    expect(categoryIn("breaks the harness in a helper named like an assertion")).to.equal("harness");
    expect(categoryIn("fails an assertion")).to.equal("firmware-device");
    expect(categoryIn("loses the lab")).to.equal("infrastructure");
  });

  it("a quarantined or lease-timed-out lab board's skipped results carry rig, board, family, clauses and the reason", () => {
    const name = "never runs on a board it cannot have";
    const onBoard = (id: string) => {
      const r = results.find(
        (x) => x.name === name && x.labels.some((l) => l.name === "board" && l.value === id),
      );
      expect(r, id).not.to.equal(undefined);
      return r as HilResult;
    };
    const xml = toJunitXml(results);
    const m = buildMatrix({ documents: [{ document: "fixture", clauses: ["fixture clause A"] }] }, results);
    const quarantined =
      "board nor-lab is quarantined for this run: its health check failed (uhubctl: hub 1-1 not found)";
    for (const [id, why] of [
      ["nor-lab", quarantined],
      ["nor-held", /^board nor-held is leased \(waited 0 ms\): nor-held by another run/],
    ] as const) {
      const r = onBoard(id);
      expect(r.status).to.equal("skipped");
      const labels = (n: string) => r.labels.filter((l) => l.name === n).map((l) => l.value);
      expect([labels("rig"), labels("board"), labels("family"), labels("clause")]).to.deep.equal([
        ["lab-rig"],
        [id],
        ["sim-nor"],
        ["fixture clause A"],
      ]);
      // The Allure report shows the reason, not allure-mocha's "Test skipped".
      expect(r.message).to.match(
        typeof why === "string" ? new RegExp(`^${why.replace(/[()]/g, "\\$&")}$`) : why,
      );
      const cases = xml.split("<testcase ").filter((c) => c.startsWith(`name="${name}"`));
      const junit = cases.find((c) => c.includes(`value="${id}"`)) ?? "";
      expect(junit).to.include(`<skipped message="${r.message.replace(/'/g, "&apos;")}"/>`);
      const column = m.columns.indexOf(`lab-rig / ${id}`);
      expect(column, `${id} has its column`).to.be.at.least(0);
      expect(m.rows[0]?.cells[column]).to.deep.include({ status: "skipped", reason: r.message });
    }
  });

  it("records power operations as nested steps without step code in the suite", () => {
    const steps = rawByName("passes with power steps").steps.filter((st) => !st.attachments?.length);
    expect(steps.map((st) => [st.name, st.status])).to.deep.equal([["power cycle 500", "passed"]]);
  });

  it("records strategy calls as steps, the power calls they make nested inside", () => {
    const tree = (steps: readonly RawStep[]): unknown[] =>
      steps
        .filter((st) => !st.attachments?.length)
        .map((st) => (st.steps?.some((c) => !c.attachments?.length) ? [st.name, tree(st.steps)] : st.name));
    expect(tree(rawByName("passes with strategy steps").steps)).to.deep.equal([
      "strategy factoryReset image=16 bytes",
      ["strategy transition app", ["power cycle"]],
    ]);
  });

  it("records client operations as nested steps through the one observer, retitled when they end", () => {
    const tree = (steps: readonly RawStep[]): unknown[] =>
      steps
        .filter((st) => !st.attachments?.length)
        .map((st) => (st.steps?.some((c) => !c.attachments?.length) ? [st.name, tree(st.steps)] : st.name));
    expect(tree(rawByName("runs client operations").steps)).to.deep.equal([
      ["download 4096 bytes", ["erase 2 pages", "FUS poll ×14"]],
    ]);
    const failedStep = rawByName("fails inside a client operation").steps.find(
      (st) => st.name === "download 2 blocks",
    );
    expect(failedStep?.status).to.equal("failed");
  });

  it("attaches the transcript of the client whose operation ran, without suite code", () => {
    expect(attachments("fails inside a client operation")).to.include.members([
      "dfu transcript (last 24 exchanges) text/plain",
      "dfu transcript text/plain",
      "dfu transcript.json application/json",
    ]);
    expect(attachments("runs client operations").filter((a) => a.includes("transcript"))).to.deep.equal([]);
  });

  it("diffs the flash against the expected image after a power cut", () => {
    expect(attachments("cuts power with an image expected in flash")).to.include(
      "flash diff: fixture image text/plain",
    );
    expect(attachments("passes with power steps").filter((a) => a.startsWith("flash diff"))).to.deep.equal(
      [],
    );
  });

  it("attaches device log, fault plan and a timeline picture to a failure on an emulated board", () => {
    expect(attachments("fails an assertion")).to.include.members([
      "device log text/plain",
      "fault plan application/json",
      "state timeline image/svg+xml",
      "usart transcript (last 24 exchanges) text/plain",
      "usart transcript text/plain",
      "usart transcript.json application/json",
    ]);
    expect(attachments("loses the lab").filter((a) => a.includes("transcript"))).to.deep.equal([]);
    expect(attachments("passes with power steps")).to.deep.equal(["state timeline image/svg+xml"]);
  });

  it("leaves a reproduction bundle per failed test with the command that reruns it", async () => {
    const bundles = (await readdir(join(dir, "repro"))).sort();
    expect(bundles).to.have.length(5);
    const id = bundles.find((b) => b.includes("fails-an-assertion")) as string;
    expect(id).to.match(/^sim-nor-0-fails-an-assertion-[0-9a-f]{8}$/);
    const bundle = JSON.parse(await readFile(join(dir, "repro", id, "repro.json"), "utf8"));
    expect(bundle).to.deep.include({
      format: "update-hil/repro@1",
      test: "fixture: categories sim-nor-0 (sim-nor) fails an assertion",
      category: "firmware-device",
      command: "npx hil run --grep '^fixture: categories sim-nor-0 \\(sim-nor\\) fails an assertion$'",
    });
    expect(bundle.board).to.deep.include({ id: "sim-nor-0", family: "sim-nor", emulated: true });
    expect(await readFile(join(dir, "repro", id, "device-log.txt"), "utf8")).to.match(/^seed \d+\n/);
    const transcript = JSON.parse(await readFile(join(dir, "repro", id, "usart.transcript.json"), "utf8"));
    expect(transcript.entries.map((e: { dir: string; hex?: string }) => [e.dir, e.hex])).to.deep.equal([
      ["tx", "7f"],
      ["rx", "79"],
    ]);
    const rerun = raw
      .find((r) => r.name === "fails an assertion")
      ?.parameters?.find((p) => p.name === "rerun");
    expect(rerun?.value).to.equal(bundle.command);
  });

  it("gives JUnit two failures, three errors, three skips and the matrix its clauses", () => {
    const xml = toJunitXml(results);
    expect(xml).to.match(/<testsuites name="update-hil" tests="12" failures="2" errors="3" skipped="3"/);
    expect(xml).to.include('type="infrastructure">InfrastructureError: uhubctl: hub 1-1 not found');
    const m = buildMatrix(
      {
        documents: [
          { document: "fixture", clauses: ["fixture clause A", "fixture clause B", "fixture clause D"] },
        ],
      },
      results,
      // What the suites declare: clause D has a TKey test, and the fixture rig has no TKey.
      [{ test: "fixture: tkey never defined", family: "tkey", clauses: ["fixture clause D"] }],
    );
    expect(m.rows.map((r) => [r.clause, r.status, ...r.cells.map((c) => c.status), r.note])).to.deep.equal([
      // The quarantined lab board has its column; its one test skipped with the reason.
      ["fixture clause A", "passed", "passed", "skipped", "skipped", undefined],
      ["fixture clause B", "failed", "failed", "not run", "not run", undefined],
      [
        "fixture clause D",
        "not run",
        "n/a",
        "n/a",
        "n/a",
        "not run: rig 'fixture-rig' has no board of family tkey",
      ],
      ["fixture clause C", "failed", "broken", "not run", "not run", undefined],
    ]);
    expect(m.columns).to.deep.equal(["emulated / sim-nor-0", "lab-rig / nor-held", "lab-rig / nor-lab"]);
    expect(m.testsWithoutClause).to.have.length(4);
  });
});
