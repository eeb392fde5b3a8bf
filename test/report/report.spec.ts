import type { CategoryRule } from "@allurereport/core-api";
import { matchCategory, normalizeCategoriesConfig } from "@allurereport/core-api";
import { expect } from "chai";
import { DfuError } from "../../harness/clients/dfu/index.js";
import { LinkClosedError } from "../../harness/clients/stm32-usart/index.js";
import { TKeyGoneError } from "../../harness/clients/tkey/index.js";
import { InfrastructureError } from "../../harness/lab/errors.js";
import { allureCategoryRules, classifyError } from "../../harness/report/categories.js";
import { runFacts } from "../../harness/report/environment.js";
import { checkGate } from "../../harness/report/gate.js";
import { toJunitXml } from "../../harness/report/junit.js";
import {
  buildMatrix,
  type ClauseCatalogue,
  matrixHtml,
  matrixMarkdown,
  skipReason,
} from "../../harness/report/matrix.js";
import { type HilResult, lastAttempts, toHilResult } from "../../harness/report/results.js";
import { StreamClosedError } from "../../harness/transport/errors.js";
import { Transcript } from "../../harness/transport/transcript.js";

/** An Allure result as allure-mocha writes it, reduced to what the reports read. */
function raw(
  name: string,
  status: string,
  labels: Record<string, string | string[]>,
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    uuid: `u-${name}-${String(labels.board ?? "")}`,
    historyId: `h-${name}`,
    name,
    fullName: `update-hil:suites/x.spec.ts: ${name}`,
    status,
    start: 1_700_000_000_000,
    stop: 1_700_000_000_250,
    labels: Object.entries(labels).flatMap(([n, v]) =>
      (Array.isArray(v) ? v : [v]).map((value) => ({ name: n, value })),
    ),
    parameters: [],
    ...extra,
  };
}

const board = (id: string, rest: Record<string, string | string[]> = {}) => ({
  parentSuite: "dfu: full update",
  suite: `${id} (stm32)`,
  package: "update-hil.suites.dfu.full-update.spec.ts",
  rig: "emulated",
  board: id,
  family: "stm32",
  ...rest,
});

/** A small known run: two boards, one passing, one failed assertion, one infrastructure error, one skipped suite. */
function knownResults(): HilResult[] {
  return lastAttempts(
    [
      raw("downloads", "passed", board("l432-0", { clause: "DFU 1.1 §6 (download, manifestation)" }), {
        parameters: [{ name: "seed", value: "7" }],
      }),
      raw("downloads", "failed", board("wb55-0", { clause: "DFU 1.1 §6 (download, manifestation)" }), {
        statusDetails: {
          message: "expected 'dfuIDLE' to equal 'dfuERROR'",
          trace: "AssertionError: expected 'dfuIDLE' to equal 'dfuERROR'\n    at x",
        },
        parameters: [{ name: "seed", value: "7" }],
      }),
      raw("leaves", "broken", board("wb55-0", { clause: "AN3156 §5.5 (leave)", failure: "infrastructure" }), {
        statusDetails: {
          message: "board wb55-0 not found <usb>",
          trace: "LeaseError: board wb55-0 not found <usb>",
        },
      }),
      raw("skipped: rig 'emulated' has no board of family tkey", "skipped", {
        parentSuite: "tkey: full update",
        package: "update-hil.suites.tkey.full-update.spec.ts",
        rig: "emulated",
        family: "tkey",
      }),
    ].map(toHilResult),
  );
}

describe("report: failure categories", () => {
  it("classifies known error classes: lab, device, harness", () => {
    class LeaseTimeout extends InfrastructureError {
      override name = "LeaseTimeout";
    }
    const assertion = Object.assign(new Error("expected 1 to equal 2"), {
      name: "AssertionError",
      actual: 1,
      expected: 2,
    });
    const dfu = Object.assign(new Error("DFU download failed: errTARGET"), { name: "DfuError" });
    expect(classifyError(new InfrastructureError("power backend uhubctl: exit 1"))).to.equal(
      "infrastructure",
    );
    expect(classifyError(new LeaseTimeout("lease of l432-0 timed out"))).to.equal("infrastructure");
    expect(classifyError(assertion)).to.equal("firmware-device");
    expect(classifyError(dfu)).to.equal("firmware-device");
    expect(classifyError(new TypeError("x is undefined"))).to.equal("harness");
    expect(classifyError("a string")).to.equal("harness");
  });

  it("a serial port closing under its client (USART or TKey), or a DFU device leaving the bus, is the lab's: infrastructure", () => {
    const transcript = new Transcript();
    const closed = new StreamClosedError("/dev/ttyACM0", {
      reason: "device disconnected",
      disconnected: true,
    });
    expect(classifyError(new LinkClosedError("Write Memory", transcript, closed))).to.equal("infrastructure");
    expect(classifyError(new TKeyGoneError("FW_CMD_LOAD_APP_DATA 4/16", transcript, closed))).to.equal(
      "infrastructure",
    );
    expect(classifyError(closed)).to.equal("infrastructure");
    const gone = new DfuError({
      kind: "disconnected",
      operation: "DNLOAD block 7",
      detail: "device left the bus",
    });
    expect(classifyError(gone), "a DFU device leaving the bus").to.equal("infrastructure");
    const refused = new DfuError({ kind: "status", operation: "DNLOAD block 7", detail: "errTARGET" });
    expect(classifyError(refused), "a DFU status").to.equal("firmware-device");
  });

  it("derives the category of a stored result from its label, else its trace, else its status", () => {
    const [downloadsWb55, leaves] = knownResults().filter(
      (r) => r.status !== "passed" && r.status !== "skipped",
    );
    expect(downloadsWb55?.category).to.equal("firmware-device");
    expect(leaves?.category).to.equal("infrastructure");
    const broken = toHilResult(raw("x", "broken", {}, { statusDetails: { trace: "TypeError: boom" } }));
    expect(broken.category).to.equal("harness");
    const nack = toHilResult(
      raw("x", "broken", {}, { statusDetails: { trace: "NackError: Write Memory NACKed" } }),
    );
    expect(nack.category).to.equal("firmware-device");
    expect(toHilResult(raw("x", "passed", {})).category).to.equal(undefined);
  });
});

describe("report: Allure categories config", () => {
  // Allure 3's own rule engine (what `allure generate` applies to allurerc.mjs's categories).
  const rules = normalizeCategoriesConfig(allureCategoryRules() as unknown as CategoryRule[]);
  const categoryName = (
    status: "failed" | "broken",
    trace: string,
    labels: { name: string; value: string }[] = [],
  ) => matchCategory(rules, { status, labels, message: trace.split("\n")[0], trace, flaky: false })?.id;

  it("puts each known error class in its category, and the failure label wins", () => {
    expect(categoryName("broken", "InfrastructureError: uhubctl: hub 1-1 not found")).to.equal(
      "infrastructure",
    );
    expect(
      categoryName("broken", "LeaseTimeout: l432-0", [{ name: "failure", value: "infrastructure" }]),
    ).to.equal("infrastructure");
    expect(categoryName("failed", "AssertionError: expected 1 to equal 2")).to.equal("firmware-device");
    expect(categoryName("broken", "DfuError: DFU download at 0x08000000 failed: errTARGET")).to.equal(
      "firmware-device",
    );
    expect(categoryName("broken", "TKeySilentError: no reply")).to.equal("firmware-device");
    expect(categoryName("broken", "TypeError: cannot read properties of undefined")).to.equal("harness");
    expect(categoryName("broken", "AssertionError [ERR_ASSERTION]: x")).to.equal("firmware-device");
  });
});

describe("report: JUnit XML", () => {
  it("writes the known run as testsuites, failure/error/skipped with the category as type", () => {
    const xml = toJunitXml(knownResults(), { properties: { seed: "7", rig: "emulated" } });
    expect(xml).to.equal(`<?xml version="1.0" encoding="UTF-8"?>
<testsuites name="update-hil" tests="4" failures="1" errors="1" skipped="1" time="1.000">
  <testsuite name="dfu: full update" tests="3" failures="1" errors="1" skipped="0" time="0.750" timestamp="2023-11-14T22:13:20">
    <properties>
      <property name="rig" value="emulated"/>
      <property name="seed" value="7"/>
    </properties>
    <testcase name="downloads" classname="dfu: full update.l432-0 (stm32)" time="0.250">
      <properties>
        <property name="clause" value="DFU 1.1 §6 (download, manifestation)"/>
        <property name="rig" value="emulated"/>
        <property name="board" value="l432-0"/>
        <property name="seed" value="7"/>
      </properties>
    </testcase>
    <testcase name="downloads" classname="dfu: full update.wb55-0 (stm32)" time="0.250">
      <properties>
        <property name="clause" value="DFU 1.1 §6 (download, manifestation)"/>
        <property name="rig" value="emulated"/>
        <property name="board" value="wb55-0"/>
        <property name="seed" value="7"/>
      </properties>
      <failure message="expected &apos;dfuIDLE&apos; to equal &apos;dfuERROR&apos;" type="firmware-device">AssertionError: expected &apos;dfuIDLE&apos; to equal &apos;dfuERROR&apos;
    at x</failure>
    </testcase>
    <testcase name="leaves" classname="dfu: full update.wb55-0 (stm32)" time="0.250">
      <properties>
        <property name="clause" value="AN3156 §5.5 (leave)"/>
        <property name="rig" value="emulated"/>
        <property name="board" value="wb55-0"/>
      </properties>
      <error message="board wb55-0 not found &lt;usb&gt;" type="infrastructure">LeaseError: board wb55-0 not found &lt;usb&gt;</error>
    </testcase>
  </testsuite>
  <testsuite name="tkey: full update" tests="1" failures="0" errors="0" skipped="1" time="0.250" timestamp="2023-11-14T22:13:20">
    <properties>
      <property name="rig" value="emulated"/>
      <property name="seed" value="7"/>
    </properties>
    <testcase name="skipped: rig &apos;emulated&apos; has no board of family tkey" classname="tkey: full update" time="0.250">
      <properties>
        <property name="rig" value="emulated"/>
      </properties>
      <skipped message="rig &apos;emulated&apos; has no board of family tkey"/>
    </testcase>
  </testsuite>
</testsuites>
`);
  });

  it("keeps XML well formed whatever the error text holds (ANSI colours, control bytes)", () => {
    const r = toHilResult(
      raw(
        "t",
        "failed",
        {},
        { statusDetails: { message: "\u001b[31mred\u001b[0m \u0001 & <x>", trace: "" } },
      ),
    );
    const xml = toJunitXml([r]);
    expect(xml).to.include('message="red \uFFFD &amp; &lt;x&gt;"');
    expect(xml).not.to.include("\u0001");
  });
});

describe("report: qualification matrix", () => {
  const catalogue: ClauseCatalogue = {
    documents: [
      {
        document: "DFU 1.1",
        set: "dfu",
        clauses: ["DFU 1.1 §6 (download, manifestation)", "DFU 1.1 §6.1.2 errTARGET"],
      },
      { document: "TKey", clauses: ["TKey firmware protocol: Load an application"] },
    ],
  };

  it("from the results alone: clause × rig/board, gaps where no result names a clause", () => {
    const m = buildMatrix(catalogue, knownResults());
    expect(m.columns).to.deep.equal(["emulated / l432-0", "emulated / wb55-0"]);
    const grid = m.rows.map((r) => [r.clause, r.status, ...r.cells.map((c) => c.status)]);
    expect(grid).to.deep.equal([
      ["DFU 1.1 §6 (download, manifestation)", "failed", "passed", "failed"],
      ["DFU 1.1 §6.1.2 errTARGET", "gap", "n/a", "n/a"],
      ["TKey firmware protocol: Load an application", "gap", "n/a", "n/a"],
      ["AN3156 §5.5 (leave)", "failed", "not run", "broken"],
    ]);
    expect(m.rows[0]?.cells[1]?.tests).to.deep.equal([
      { name: "downloads", status: "failed", category: "firmware-device" },
    ]);
    expect(m.gaps.map((g) => g.clause)).to.deep.equal([
      "DFU 1.1 §6.1.2 errTARGET",
      "TKey firmware protocol: Load an application",
    ]);
    const md = matrixMarkdown(m);
    expect(md).to.include(
      "| DFU 1.1 §6 (download, manifestation) |  | normal | passed | failed (firmware-device) | downloads |",
    );
    expect(md).to.include("| AN3156 §5.5 (leave) |  | normal | not run | broken (infrastructure) | leaves |");
    expect(md).to.include("- DFU 1.1 §6.1.2 errTARGET (DFU 1.1)");
  });

  const declared = [
    { test: "dfu downloads", family: "stm32", clauses: ["DFU 1.1 §6 (download, manifestation)"] },
    { test: "dfu refuses", family: "stm32", clauses: ["DFU 1.1 §6.1.2 errTARGET"] },
    { test: "tkey loads", family: "tkey", clauses: ["TKey firmware protocol: Load an application"] },
  ];

  it("with the suites' declarations: not run (filtered, or no board of the family) apart from gap", () => {
    // The run was filtered (--grep): errTARGET's test exists but did not run; no TKey board.
    const m = buildMatrix(catalogue, knownResults(), declared);
    const grid = m.rows.map((r) => [r.clause, r.status, ...r.cells.map((c) => c.status), r.note]);
    expect(grid).to.deep.equal([
      ["DFU 1.1 §6 (download, manifestation)", "failed", "passed", "failed", undefined],
      [
        "DFU 1.1 §6.1.2 errTARGET",
        "not run",
        "not run",
        "not run",
        "not run: filtered out of this run (--grep / --shard)",
      ],
      [
        "TKey firmware protocol: Load an application",
        "not run",
        "n/a",
        "n/a",
        "not run: rig 'emulated' has no board of family tkey",
      ],
      ["AN3156 §5.5 (leave)", "failed", "not run", "broken", undefined],
    ]);
    expect(m.gaps).to.deep.equal([]);
    const md = matrixMarkdown(m);
    // The TKey table has no stm32 columns: a family a clause cannot apply to gets none.
    expect(md).to.include(
      "| clause | cites | severity | tests |\n|---|---|---|---|\n| TKey firmware protocol: Load an application |  | normal | not run: rig 'emulated' has no board of family tkey |",
    );
    expect(md).to.include(
      "| DFU 1.1 §6.1.2 errTARGET |  | normal | not run | not run | not run: filtered out of this run (--grep / --shard) |",
    );
    expect(md).not.to.include("gap: no test");
  });

  it("opens with a summary per document: clauses, passed, failed, skipped, not run, gaps", () => {
    const m = buildMatrix(catalogue, knownResults(), declared.slice(0, 1));
    expect(m.summary).to.deep.equal([
      { document: "DFU 1.1", clauses: 2, passed: 0, failed: 1, skipped: 0, notRun: 0, gaps: 1 },
      { document: "TKey", clauses: 1, passed: 0, failed: 0, skipped: 0, notRun: 0, gaps: 1 },
      { document: "Not in the catalogue", clauses: 1, passed: 0, failed: 1, skipped: 0, notRun: 0, gaps: 0 },
    ]);
    const md = matrixMarkdown(m);
    expect(md).to.include(
      "| document | clauses | passed | failed | skipped | not run | gaps |\n|---|--:|--:|--:|--:|--:|--:|\n| DFU 1.1 | 2 | 0 | 1 | 0 | 0 | 1 |",
    );
    expect(md.indexOf("| DFU 1.1 | 2 |")).to.be.below(md.indexOf("## DFU 1.1"));
    expect(matrixHtml(m)).to.include('<tr><td>DFU 1.1</td><td class="num">2</td>');
  });

  it("counts in cells: 1 of 3 failed, 2 of 3 passed", () => {
    const on = (name: string, status: string, trace?: string) =>
      raw(name, status, board("l432-0", { clause: "DFU 1.1 §6 (download, manifestation)" }), {
        ...(trace ? { statusDetails: { message: "x", trace } } : {}),
        historyId: `h-${name}`,
      });
    const failing = [
      on("a", "passed"),
      on("b", "failed", "AssertionError: expected 'dfuIDLE' to equal 'dfuERROR'"),
      on("c", "skipped"),
    ].map(toHilResult);
    const cell = (results: HilResult[]) =>
      matrixMarkdown(buildMatrix(catalogue, results, declared))
        .split("\n")
        .find((l) => l.startsWith("| DFU 1.1 §6 ("));
    expect(cell(failing)).to.include("| 1 of 3 failed (firmware-device) |");
    const passing = [on("a", "passed"), on("b", "passed"), on("c", "skipped")].map(toHilResult);
    expect(cell(passing)).to.include("| 2 of 3 passed |");
    const broken = [on("a", "broken", "TypeError: x"), on("b", "passed")].map(toHilResult);
    expect(cell(broken)).to.include("| 1 of 2 broken (harness) |");
  });

  it("a failure under an injected fault says so in its category text", () => {
    const under = (fault?: string) =>
      raw(
        "b",
        "failed",
        board("l432-0", {
          clause: "DFU 1.1 §6 (download, manifestation)",
          ...(fault ? { "injected-fault": fault } : {}),
        }),
        {
          statusDetails: { message: "x", trace: "AssertionError: expected 'dfuIDLE' to equal 'dfuERROR'" },
        },
      );
    const cell = (r: HilResult) =>
      matrixMarkdown(buildMatrix(catalogue, [r], declared))
        .split("\n")
        .find((l) => l.startsWith("| DFU 1.1 §6 ("));
    expect(cell(toHilResult(under("flash-op:3=flash-fail")))).to.include(
      "| failed (firmware-device under an injected fault) |",
    );
    expect(cell(toHilResult(under()))).to.include("| failed (firmware-device) |");
  });

  it("a rig's own column shows the clauses its boards' families have tests for", () => {
    const results = [
      toHilResult(
        raw("loads", "passed", {
          ...board("tkey-0", { clause: "TKey firmware protocol: Load an application" }),
          rig: "lab-a",
          family: "tkey",
          package: "update-hil.suites.tkey.full-update.spec.ts",
        }),
      ),
      ...knownResults(),
    ];
    const m = buildMatrix(catalogue, results, declared);
    const tkey = m.rows.find((r) => r.clause === "TKey firmware protocol: Load an application");
    const cols = Object.fromEntries(m.columns.map((c, i) => [c, tkey?.cells[i]?.status]));
    expect(cols).to.deep.equal({
      "emulated / l432-0": "n/a",
      "emulated / wb55-0": "n/a",
      "lab-a / tkey-0": "passed",
    });
    expect(tkey?.status).to.equal("passed");
  });

  it("a test that skipped itself shows the reason from its description, not mocha's 'Test skipped'", () => {
    const skippedInside = toHilResult(
      raw(
        "erases with 0x43",
        "skipped",
        { ...board("l432-lab", { clause: "AN3155: Erase Memory (0x43)" }), rig: "lab-a" },
        {
          statusDetails: { message: "Test skipped" },
          description:
            "Skipped: l432-lab lists Extended Erase (0x44); Erase (0x43) is checked on the emulator.",
        },
      ),
    );
    const bare = toHilResult(
      raw(
        "bare",
        "skipped",
        { ...board("l432-lab", { clause: "AN3155: Go (0x21)" }), rig: "lab-a" },
        {
          statusDetails: { message: "Test skipped" },
        },
      ),
    );
    expect(skipReason(skippedInside)).to.equal(
      "l432-lab lists Extended Erase (0x44); Erase (0x43) is checked on the emulator",
    );
    expect(skipReason(bare)).to.equal("Test skipped");
  });

  it("gate: fails on a failed test, passes a clean run, names uncovered clauses of a required set", () => {
    const results = knownResults();
    const m = buildMatrix(catalogue, results);
    const failing = checkGate(results, m, { requireSets: ["dfu"] });
    expect(failing.ok).to.equal(false);
    expect(failing.violations).to.deep.equal([
      "success rate 33.3% below 100.0% (2 of 3 failed or broken)",
      "set dfu: no test for DFU 1.1 §6.1.2 errTARGET",
    ]);
    const clean = results.filter((r) => r.status === "passed");
    expect(checkGate(clean, buildMatrix(catalogue, clean)).ok).to.equal(true);
    const critical = toHilResult(
      raw("c", "failed", { severity: "critical" }, { statusDetails: { trace: "AssertionError: x" } }),
    );
    expect(checkGate([critical], m, { minSuccessRate: 0 }).violations).to.deep.equal([
      "critical test failed (firmware-device): update-hil:suites/x.spec.ts: c on ?",
    ]);
  });
});

describe("report: run facts", () => {
  it("puts rig, boards with versions, and seeds in the environment", () => {
    const results = [
      toHilResult(
        raw("a", "passed", board("l432-0", { family: "stm32", "version.bootloader": "0x31" }), {
          parameters: [{ name: "seed", value: "42" }],
        }),
      ),
    ];
    expect(runFacts(results)).to.deep.equal({
      rig: "emulated",
      "board l432-0": "stm32; bootloader 0x31",
      seed: "42",
      results: "1 passed",
    });
  });
});
