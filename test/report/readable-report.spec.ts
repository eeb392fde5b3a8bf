import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import { readRawResults, runAllureFixture } from "./run-fixture.js";

interface RawStep {
  name: string;
  status?: string;
  steps?: RawStep[];
  attachments?: { name: string; type: string; source: string }[];
}
interface RawResult {
  name: string;
  status: string;
  statusDetails?: { message?: string };
  labels: { name: string; value: string }[];
  steps: RawStep[];
}

const FIXTURE = "test/report/fixtures/readable.fixture.ts";

/**
 * Failures as a report reader meets them: a child mocha runs a fixture suite on the emulated
 * sim-nor board with allure-mocha; the results are read back.
 */
describe("report: failures that say where", function () {
  this.timeout(60_000);
  let dir: string;
  let raw: RawResult[];

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "report-readable-"));
    await runAllureFixture(FIXTURE, dir, { failing: 5 }); // five tests fail on purpose
    raw = await readRawResults<RawResult>(dir);
  });

  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const result = (name: string) => {
    const r = raw.find((x) => x.name === name);
    expect(r, name).not.to.equal(undefined);
    return r as RawResult;
  };
  /** A test's attachments, name → text (Allure 3 writes each as a step holding it). */
  const attachments = async (name: string): Promise<Map<string, string>> => {
    const found = new Map<string, string>();
    const walk = async (steps: readonly RawStep[]): Promise<void> => {
      for (const st of steps) {
        for (const at of st.attachments ?? [])
          found.set(at.name, at.type.startsWith("text/") ? await readFile(join(dir, at.source), "utf8") : "");
        await walk(st.steps ?? []);
      }
    };
    await walk(result(name).steps);
    return found;
  };

  it("a flash mismatch fails with the diff's headline, and the full diff is attached", async () => {
    const r = result("fails hold on a flash it wrote");
    expect(r.status).to.equal("failed");
    expect(r.statusDetails?.message).to.match(
      /^sim-nor flash: 1 byte of fixture image at 0x[0-9a-f]{8} \(256 B\) differs, in sector 0; first at 0x[0-9a-f]{6}a2: flash 0xdb, image 0xa2$/,
    );
    const diff = (await attachments("fails hold on a flash it wrote")).get("flash diff: fixture image");
    expect(diff).to.match(
      /1 sector\(s\) differ:\nsector 0 .*1 byte\(s\) differ; first at 0x[0-9a-f]{6}a2: flash 0xdb, image 0xa2/,
    );
  });

  it("a failed test that wrote flash gets what changed since it began, with no expectation registered", async () => {
    const found = await attachments("fails after writing flash with nothing expected of it");
    const name = [...found.keys()].find((n) => n.startsWith("flash diff: "));
    expect(name).to.match(/^flash diff: .* since the test began$/);
    expect(found.get(name as string)).to.match(/sector 0 @0x[0-9a-f]{8} \(\d+ B\): \d+ byte\(s\) differ/);
    const passed = await attachments("passes after writing flash");
    expect([...passed.keys()].filter((n) => n.startsWith("flash diff"))).to.deep.equal([]);
  });

  /** A result's steps as [name, status, children] (attachments left out). */
  const tree = (steps: readonly RawStep[]): unknown[] =>
    steps
      .filter((st) => !st.attachments?.length)
      .map((st) => [st.name, st.status, ...(st.steps?.length ? [tree(st.steps)] : [])]);

  it("an error the test provokes and expects ends its steps as passed, naming it", () => {
    const r = result("expects the errPROG it provokes");
    expect(r.status).to.equal("passed");
    expect(tree(r.steps)).to.deep.equal([
      [
        "download 2 blocks → errPROG (expected)",
        "passed",
        [
          ["DNLOAD block 1", "passed"],
          ["DNLOAD block 2 → errPROG (expected)", "passed"],
        ],
      ],
    ]);
  });

  it("another error than the one expected fails as itself; no error at all is an assertion failure", () => {
    const other = result("expects errPROG but the device says errVERIFY");
    expect(other.status).to.equal("broken");
    expect(other.statusDetails?.message).to.equal("DFU DNLOAD block 2 failed: [errVERIFY, dfuERROR]");
    expect(JSON.stringify(tree(other.steps))).not.to.include("expected");
    const none = result("expects errPROG but the download succeeds");
    expect(none.status).to.equal("failed");
    expect(none.statusDetails?.message).to.equal(
      "expected the operation to fail with errPROG, but it succeeded",
    );
  });

  it("a failure under a fault plan carries the injected-fault label and says which fault in its text", () => {
    const r = result("fails under an injected fault");
    const faults = r.labels.filter((l) => l.name === "injected-fault").map((l) => l.value);
    expect(faults).to.have.length(1);
    expect(faults[0]).to.match(/^flash-op:\d+=flash-fail fired at flash op \d+ \(erase 0x[0-9a-f]+/);
    const [first, ...rest] = (r.statusDetails?.message ?? "").split("\n");
    // The first line (what `hil replay` compares) is the assertion's own.
    expect(first).to.equal("the erase succeeds: expected false to equal true");
    expect(rest).to.deep.equal([`injected fault: ${faults[0]}`]);
    expect(result("passes after writing flash").labels.some((l) => l.name === "injected-fault")).to.equal(
      false,
    );
    // A fault the test armed is on its result even when it never fired, and on no later one.
    const armed = result("arms a fault that never fires");
    expect(armed.status).to.equal("passed");
    expect(armed.labels.filter((l) => l.name === "injected-fault").map((l) => l.value)).to.deep.equal([
      "event:never.happens#1=power-cut armed, did not fire",
    ]);
  });
});
