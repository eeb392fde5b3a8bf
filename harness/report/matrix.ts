/**
 * The qualification matrix: every document clause the project knows (clauses.yaml) × every
 * rig/board the results ran on, where the board's family has a test for the clause →
 * "2 of 3 passed" / "1 of 3 failed (firmware-device)" / skipped with the reason / not run,
 * and the tests behind each cell. A clause no test declares is a gap; one a test declares
 * but the run did not reach (--grep, --shard, no board of its family on the rig) is not run.
 * Clauses named by a test but missing from the catalogue are listed too, so none can hide.
 * Each document opens with its sources and a summary (clauses, passed, failed, skipped, not
 * run, gaps).
 */
import {
  type Citation,
  type ClauseCatalogue,
  citationOf,
  type DocumentSource,
  type Severity,
  sourceName,
} from "./catalogue.js";
import type { DeclaredTest } from "./declared.js";
import { type HilResult, label, labelValues, type ResultStatus } from "./results.js";
import { skipReasonOf } from "./skip.js";

export const CLAUSE_LABEL = "clause";

export {
  type CatalogueDocument,
  type ClauseCatalogue,
  catalogueSync,
  findClause,
  loadCatalogue,
  SEVERITIES,
  type Severity,
} from "./catalogue.js";

/** A cell: what ran there; "n/a" where the column's family has no test for the clause. */
export type CellStatus = "passed" | "failed" | "broken" | "skipped" | "not run" | "n/a";

export interface MatrixCell {
  status: CellStatus;
  /** The tests behind the cell (names), and for failures their category. */
  tests: { name: string; status: ResultStatus; category?: string | undefined }[];
  /** Why the cell is skipped (the skip reason of the suite or test). */
  reason?: string | undefined;
}

/**
 * A clause over the whole run: gap (no test declares it), failed (failed or broken
 * somewhere), passed, skipped (every result skipped), not run (no result at all).
 */
export type RowStatus = "gap" | "failed" | "passed" | "skipped" | "not run";

export interface MatrixRow {
  clause: string;
  document: string;
  /** How bad a failure against it is (catalogue; normal for uncatalogued clauses). */
  severity: Severity;
  /** The document by name, revision and section, with its public address (uncatalogued: none). */
  citation: Citation | undefined;
  /** The sources of its document (for the document's heading). */
  sources: DocumentSource[];
  set: string | undefined;
  /** false: named by a test but not in the catalogue. */
  catalogued: boolean;
  /** Families that have a test declaring it. */
  families: string[];
  /** Test names covering this clause on any column. */
  tests: string[];
  /** One per column; "n/a" where the column's family has no test for it. */
  cells: MatrixCell[];
  status: RowStatus;
  /** Why a clause with a test has no result: the suite's skip reason, the filter, the rig. */
  note?: string | undefined;
  /** Twin runs: whether the emulated twins behaved as their lab boards on this clause's tests. */
  twin?: TwinCell | undefined;
}

/**
 * The "lab = emulator" cell: yes when every twin test of the clause matched its lab board,
 * no with each divergence (a finding about the emulator, not a failure of the board).
 */
export interface TwinCell {
  status: "yes" | "no" | "no lab run";
  divergences: { test: string; divergence: string }[];
}

/** One document's line in the summary: how many of its clauses are in each state. */
export interface DocumentSummary {
  document: string;
  clauses: number;
  passed: number;
  failed: number;
  skipped: number;
  notRun: number;
  gaps: number;
}

export interface QualificationMatrix {
  /** "rig / board" column keys. */
  columns: string[];
  /** The family of each column's board, by column key. */
  columnFamilies: Record<string, string | undefined>;
  rows: MatrixRow[];
  /** Catalogued clauses no test declares (no test names, without the declarations). */
  gaps: MatrixRow[];
  /** Tests on a board that name no clause (full names). */
  testsWithoutClause: string[];
  /** Per document, in catalogue order. */
  summary: DocumentSummary[];
  /** Whether the run had twin results: the tables get a "lab = emulator" column. */
  twins: boolean;
}

/** Labels twin results carry (harness/mocha/twin-hooks.ts). */
const TWIN_OF = "twin-of";
const LAB_EQUALS_EMULATOR = "lab-equals-emulator";
const TWIN_DIVERGENCE = "twin-divergence";

const UNCATALOGUED = "Not in the catalogue";

function columnOf(r: HilResult): string | undefined {
  const rig = label(r, "rig");
  const board = label(r, "board");
  if (rig === undefined || board === undefined) return undefined;
  return `${rig} / ${board}`;
}

/** allure-mocha's message for any this.skip(): it says nothing about why. */
const GENERIC_SKIP = "Test skipped";

/**
 * Why a skipped result was skipped: the reason a test that skips itself recorded
 * (harness/report/skip.ts), else its message, else its `skipped: <reason>` title.
 */
export function skipReason(r: HilResult): string {
  const described = skipReasonOf(r.description);
  if (described !== undefined) return described;
  if (r.message && r.message !== GENERIC_SKIP) return r.message.split("\n")[0] ?? "";
  const m = /^skipped: (.*)$/s.exec(r.name);
  return m?.[1] ?? (r.message || "skipped");
}

const WORST: readonly CellStatus[] = ["failed", "broken", "passed", "skipped", "not run"];

function cellStatus(statuses: readonly ResultStatus[]): CellStatus {
  const as: CellStatus[] = statuses.map((s) => (s === "unknown" ? "broken" : s));
  if (as.length === 0) return "not run";
  if (as.every((s) => s === "skipped")) return "skipped";
  return WORST.find((s) => s !== "skipped" && as.includes(s)) ?? "not run";
}

function rowStatus(cells: readonly MatrixCell[], declared: boolean): RowStatus {
  if (!declared) return "gap";
  const s = new Set(cells.map((c) => c.status));
  if (s.has("failed") || s.has("broken")) return "failed";
  if (s.has("passed")) return "passed";
  if (s.has("skipped")) return "skipped";
  return "not run";
}

/**
 * `declared`: the tests the suites define with their families and clauses
 * (collectDeclaredTests); it decides gaps and which columns a clause applies to. Without
 * it, only the results say so: a clause no result names is a gap, and it applies to the
 * families of the results that name it.
 */
export function buildMatrix(
  catalogue: ClauseCatalogue,
  results: readonly HilResult[],
  declared?: readonly DeclaredTest[],
): QualificationMatrix {
  // A twin's results are findings about the emulator: the "lab = emulator" column, not a board's.
  const twinResults = results.filter((r) => label(r, TWIN_OF) !== undefined);
  const onBoards = results.filter((r) => columnOf(r) !== undefined && label(r, TWIN_OF) === undefined);
  const columns = [...new Set(onBoards.map((r) => columnOf(r) as string))].sort();
  const columnFamilies: Record<string, string | undefined> = {};
  for (const r of onBoards) columnFamilies[columnOf(r) as string] ??= label(r, "family");
  // Whole-suite skips (forEachBoard found no board of its families on a rig).
  const suiteSkips = results.filter(
    (r) => r.status === "skipped" && label(r, "rig") !== undefined && label(r, "board") === undefined,
  );

  const byClause = new Map<string, HilResult[]>();
  for (const r of onBoards)
    for (const c of new Set(labelValues(r, CLAUSE_LABEL))) {
      const list = byClause.get(c) ?? [];
      list.push(r);
      byClause.set(c, list);
    }
  const declaredFamilies = new Map<string, Set<string>>();
  for (const t of declared ?? [])
    for (const c of t.clauses) {
      const set = declaredFamilies.get(c) ?? new Set<string>();
      set.add(t.family);
      declaredFamilies.set(c, set);
    }

  const row = (
    clause: string,
    document: string,
    set: string | undefined,
    catalogued: boolean,
    severity: Severity = "normal",
    citation: Citation | undefined = undefined,
    sources: DocumentSource[] = [],
  ): MatrixRow => {
    const covering = byClause.get(clause) ?? [];
    // The families with a test for it: declared, and those of results naming it (a lab
    // family the emulated rack lacks, a run without the declarations).
    const families = new Set([
      ...(declaredFamilies.get(clause) ?? []),
      ...covering.map((r) => label(r, "family")).filter((f): f is string => f !== undefined),
    ]);
    // Results on a board without a family label still count where they ran.
    const ranOn = new Set(covering.map((r) => columnOf(r) as string));
    const cells = columns.map((col): MatrixCell => {
      const family = columnFamilies[col];
      if (!ranOn.has(col) && !(family !== undefined && families.has(family)))
        return { status: "n/a", tests: [] };
      const here = covering.filter((r) => columnOf(r) === col);
      const status = cellStatus(here.map((r) => r.status));
      const skipped = here.find((r) => r.status === "skipped");
      return {
        status,
        tests: here.map((r) => ({ name: r.name, status: r.status, category: categoryText(r) })),
        reason: status === "skipped" && skipped ? skipReason(skipped) : undefined,
      };
    });
    const hasTest = (declaredFamilies.get(clause)?.size ?? 0) > 0 || covering.length > 0;
    const status = rowStatus(cells, hasTest || !catalogued);
    let note: string | undefined;
    if (status === "not run") {
      const wanted = [...families].sort();
      const skip = suiteSkips.find((r) => labelValues(r, "family").some((f) => families.has(f)));
      if (cells.some((c) => c.status === "not run"))
        note = "not run: filtered out of this run (--grep / --shard)";
      else if (skip) note = `not run: ${skipReason(skip)}`;
      else note = `not run: no ${wanted.join(" / ") || "board"} board on this rig`;
    }
    return {
      clause,
      document,
      severity,
      citation,
      sources,
      set,
      catalogued,
      families: [...families].sort(),
      tests: [...new Set(covering.map((r) => r.name))].sort(),
      cells,
      status,
      note,
      twin: twinCell(twinResults.filter((r) => labelValues(r, CLAUSE_LABEL).includes(clause))),
    };
  };

  const rows: MatrixRow[] = [];
  const known = new Set<string>();
  for (const doc of catalogue.documents)
    for (const clause of doc.clauses) {
      known.add(clause);
      rows.push(
        row(
          clause,
          doc.document,
          doc.set,
          true,
          doc.severities?.[clause] ?? "normal",
          citationOf(doc, clause),
          doc.sources ?? [],
        ),
      );
    }
  for (const clause of [...byClause.keys()].filter((c) => !known.has(c)).sort())
    rows.push(row(clause, UNCATALOGUED, undefined, false));

  const testsWithoutClause = [
    ...new Set(onBoards.filter((r) => labelValues(r, CLAUSE_LABEL).length === 0).map((r) => r.fullName)),
  ].sort();
  const summary = [...new Set(rows.map((r) => r.document))].map((document): DocumentSummary => {
    const mine = rows.filter((r) => r.document === document);
    const n = (s: RowStatus) => mine.filter((r) => r.status === s).length;
    return {
      document,
      clauses: mine.length,
      passed: n("passed"),
      failed: n("failed"),
      skipped: n("skipped"),
      notRun: n("not run"),
      gaps: n("gap"),
    };
  });
  return {
    columns,
    columnFamilies,
    rows,
    gaps: rows.filter((r) => r.catalogued && r.status === "gap"),
    testsWithoutClause,
    summary,
    twins: twinResults.length > 0,
  };
}

function twinCell(results: readonly HilResult[]): TwinCell | undefined {
  if (results.length === 0) return undefined;
  const says = results.map((r) => label(r, LAB_EQUALS_EMULATOR));
  const divergences = results
    .filter((r) => label(r, LAB_EQUALS_EMULATOR) === "no")
    .map((r) => ({ test: r.name, divergence: label(r, TWIN_DIVERGENCE) ?? "diverged" }));
  const status = divergences.length > 0 ? "no" : says.every((s) => s === "yes") ? "yes" : "no lab run";
  return { status, divergences };
}

const TWIN_SECTION_TITLE = "Lab = emulator: divergences found by twin runs";
const TWIN_SECTION_NOTE =
  "Findings about the emulator, not failures of the boards: where an emulated twin parted from its lab board.";

/** Each diverging twin test once, with its clauses' divergence line. */
function twinFindings(m: QualificationMatrix): string[] {
  const lines = new Set<string>();
  for (const r of m.rows) for (const d of r.twin?.divergences ?? []) lines.add(`${d.test}: ${d.divergence}`);
  return [...lines].sort();
}

function twinSectionMarkdown(m: QualificationMatrix): string[] {
  const found = twinFindings(m);
  return [
    `## ${TWIN_SECTION_TITLE}`,
    "",
    TWIN_SECTION_NOTE,
    "",
    ...(found.length ? found.map((f) => `- ${md(f)}`) : ["none: every twin matched its lab board"]),
    "",
  ];
}

/** The "lab = emulator" cell as text: "yes", "no: <test>: exchange 2: ...", "—" without twin results. */
export function twinCellText(cell: TwinCell | undefined): string {
  if (!cell) return "—";
  if (cell.status !== "no") return cell.status;
  return `no: ${cell.divergences.map((d) => `${d.test}: ${d.divergence}`).join("; ")}`;
}

/** The cell as text: "2 of 3 passed", "1 of 3 failed (firmware-device)", "skipped: <reason>". */
export function cellText(cell: MatrixCell): string {
  if (cell.status === "n/a") return "—";
  if (cell.status === "not run") return "not run";
  const n = cell.tests.length;
  const count = (s: ResultStatus) => cell.tests.filter((t) => t.status === s).length;
  if (cell.status === "skipped") return `${n > 1 ? `${n} ` : ""}skipped: ${cell.reason ?? ""}`.trim();
  const of = (k: number, what: string) =>
    k === n ? `${n > 1 ? `${n} ` : ""}${what}` : `${k} of ${n} ${what}`;
  if (cell.status === "passed") return of(count("passed"), "passed");
  const parts: string[] = [];
  for (const s of ["failed", "broken"] as const) {
    const k = cell.tests.filter((t) => t.status === s || (s === "broken" && t.status === "unknown")).length;
    if (k === 0) continue;
    const cats = [
      ...new Set(
        cell.tests
          .filter((t) => t.status === s || (s === "broken" && t.status === "unknown"))
          .map((t) => t.category)
          .filter(Boolean),
      ),
    ];
    parts.push(`${of(k, s)}${cats.length ? ` (${cats.join(", ")})` : ""}`);
  }
  return parts.join("; ");
}

/**
 * A failure's category as the matrix says it: "firmware-device", or "firmware-device under an
 * injected fault" when the test ran under a fault plan (its `injected-fault` labels), so a
 * reader never takes a provoked failure for a spontaneous one.
 */
function categoryText(r: HilResult): string | undefined {
  if (r.category === undefined) return undefined;
  return labelValues(r, "injected-fault").length > 0 ? `${r.category} under an injected fault` : r.category;
}

const md = (s: string) => s.replace(/\|/g, "\\|").replace(/\n/g, " ");

/** "AN5185 Rev 1 (21-Mar-2019), ST firmware upgrade services for STM32WB Series". */
function sourceText(s: DocumentSource): string {
  return `${sourceName(s)}${s.date ? ` (${s.date})` : ""}, ${s.title}`;
}
const sourceMarkdown = (s: DocumentSource) =>
  s.url ? `[${md(sourceText(s))}](${s.url})` : md(sourceText(s));
const citationMarkdown = (c: Citation | undefined) =>
  c === undefined ? "" : c.url ? `[${md(c.text)}](${c.url})` : md(c.text);

/** The columns a document's table shows: those where a family with a test for one of its clauses sits. */
function documentColumns(m: QualificationMatrix, rows: readonly MatrixRow[]): number[] {
  return m.columns.map((_, i) => i).filter((i) => rows.some((r) => r.cells[i]?.status !== "n/a"));
}

/** What the tests column says of a row without results. */
function testsText(r: MatrixRow): string {
  if (r.status === "gap") return "gap: no test";
  const tests = r.tests.join("\n");
  return [tests, r.note].filter(Boolean).join("\n");
}

const SUMMARY_HEAD = ["document", "clauses", "passed", "failed", "skipped", "not run", "gaps"];
const summaryCells = (s: DocumentSummary) => [
  s.document,
  s.clauses,
  s.passed,
  s.failed,
  s.skipped,
  s.notRun,
  s.gaps,
];

/** The matrix as Markdown: the summary, a table per document, then gaps and tests without a clause. */
export function matrixMarkdown(m: QualificationMatrix, title = "Qualification matrix"): string {
  const out = [`# ${title}`, ""];
  const counted = (s: RowStatus) => m.rows.filter((r) => r.status === s).length;
  out.push(
    `${m.rows.length} clauses, ${m.columns.length} rig/board columns: ${counted("passed")} passed, ${counted("failed")} failed, ${counted("skipped")} skipped, ${counted("not run")} not run, ${counted("gap")} gaps (no test).`,
    "",
    `| ${SUMMARY_HEAD.join(" | ")} |`,
    `|${SUMMARY_HEAD.map((_, i) => (i === 0 ? "---" : "--:")).join("|")}|`,
    ...m.summary.map(
      (s) =>
        `| ${summaryCells(s)
          .map((c) => md(String(c)))
          .join(" | ")} |`,
    ),
    "",
  );
  for (const doc of m.summary.map((s) => s.document)) {
    const rows = m.rows.filter((x) => x.document === doc);
    out.push(`## ${doc}`, "");
    const sources = rows[0]?.sources ?? [];
    if (sources.length) out.push(`Sources: ${sources.map(sourceMarkdown).join("; ")}`, "");
    const cols = documentColumns(m, rows);
    const twinCol = rows.some((r) => r.twin !== undefined);
    const twinHead = twinCol ? ["lab = emulator"] : [];
    const head = ["clause", "cites", "severity", ...cols.map((i) => md(m.columns[i]!)), ...twinHead, "tests"];
    out.push(`| ${head.join(" | ")} |`, `|${head.map(() => "---").join("|")}|`);
    for (const r of rows) {
      const tests = r.status === "gap" ? "**gap: no test**" : md(testsText(r).replace(/\n/g, "<br>"));
      const cells = cols.map((i) => md(cellText(r.cells[i]!)));
      if (twinCol) cells.push(md(twinCellText(r.twin)));
      out.push(
        `| ${[md(r.clause), citationMarkdown(r.citation), r.severity, ...cells, tests].join(" | ")} |`,
      );
    }
    out.push("");
  }
  if (m.twins) out.push(...twinSectionMarkdown(m));
  out.push("## Gaps: clauses without a test", "");
  out.push(...(m.gaps.length ? m.gaps.map((g) => `- ${g.clause} (${g.document})`) : ["none"]), "");
  out.push("## Tests that name no clause", "");
  out.push(...(m.testsWithoutClause.length ? m.testsWithoutClause.map((t) => `- ${t}`) : ["none"]), "");
  return out.join("\n");
}

const html = (s: string) =>
  s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
const sourceHtml = (s: DocumentSource) =>
  s.url ? `<a href="${html(s.url)}">${html(sourceText(s))}</a>` : html(sourceText(s));
const citationHtml = (c: Citation | undefined) =>
  c === undefined ? "" : c.url ? `<a href="${html(c.url)}">${html(c.text)}</a>` : html(c.text);
const CLASS: Record<CellStatus, string> = {
  passed: "passed",
  failed: "failed",
  broken: "broken",
  skipped: "skipped",
  "not run": "notrun",
  "n/a": "na",
};

/** The matrix as one self-contained HTML page (no scripts, inline styles). */
export function matrixHtml(m: QualificationMatrix, title = "Qualification matrix"): string {
  const out = [
    "<!doctype html>",
    '<html lang="en"><head><meta charset="utf-8">',
    `<title>${html(title)}</title>`,
    "<style>body{font:13px system-ui,sans-serif;margin:1.5em}table{border-collapse:collapse;margin-bottom:1.5em}",
    "th,td{border:1px solid #ccc;padding:3px 6px;vertical-align:top}th{background:#f3f3f3;text-align:left}",
    ".passed{background:#d9f2d9}.failed{background:#f8c8c8;font-weight:bold}.broken{background:#f6dca8;font-weight:bold}",
    ".diverged{background:#dcd0f5}.skipped{background:#eee;color:#555}.notrun{color:#777;font-style:italic}.na{color:#bbb}.gap{background:#fff3b0}",
    "td.num{text-align:right}td.tests{font-size:11px;color:#444}</style>",
    `</head><body><h1>${html(title)}</h1>`,
    `<table class="summary"><thead><tr>${SUMMARY_HEAD.map((h) => `<th>${h}</th>`).join("")}</tr></thead><tbody>`,
    ...m.summary.map(
      (s) =>
        `<tr>${summaryCells(s)
          .map((c, i) => (i === 0 ? `<td>${html(String(c))}</td>` : `<td class="num">${c}</td>`))
          .join("")}</tr>`,
    ),
    "</tbody></table>",
  ];
  for (const doc of m.summary.map((s) => s.document)) {
    const rows = m.rows.filter((x) => x.document === doc);
    out.push(`<h2>${html(doc)}</h2>`);
    const sources = rows[0]?.sources ?? [];
    if (sources.length) out.push(`<p>Sources: ${sources.map(sourceHtml).join("; ")}</p>`);
    const cols = documentColumns(m, rows);
    out.push("<table><thead><tr><th>clause</th><th>cites</th><th>severity</th>");
    out.push(...cols.map((i) => `<th>${html(m.columns[i]!)}</th>`));
    const twinCol = rows.some((r) => r.twin !== undefined);
    if (twinCol) out.push("<th>lab = emulator</th>");
    out.push("<th>tests</th></tr></thead><tbody>");
    for (const r of rows) {
      out.push(
        `<tr${r.status === "gap" ? ' class="gap"' : ""}><td>${html(r.clause)}</td><td>${citationHtml(r.citation)}</td><td>${r.severity}</td>`,
      );
      for (const i of cols) {
        const c = r.cells[i]!;
        const tip = c.tests.map((t) => `${t.name}: ${t.status}`).join("\n");
        out.push(`<td class="${CLASS[c.status]}" title="${html(tip)}">${html(cellText(c))}</td>`);
      }
      if (twinCol) {
        const cls = r.twin?.status === "yes" ? "passed" : r.twin?.status === "no" ? "diverged" : "na";
        out.push(`<td class="${cls}">${html(twinCellText(r.twin))}</td>`);
      }
      out.push(
        `<td class="tests">${r.status === "gap" ? "<b>gap: no test</b>" : html(testsText(r)).replace(/\n/g, "<br>")}</td></tr>`,
      );
    }
    out.push("</tbody></table>");
  }
  if (m.twins) {
    const found = twinFindings(m);
    out.push(`<h2>${TWIN_SECTION_TITLE}</h2><p>${html(TWIN_SECTION_NOTE)}</p><ul>`);
    out.push(
      ...(found.length
        ? found.map((f) => `<li>${html(f)}</li>`)
        : ["<li>none: every twin matched its lab board</li>"]),
    );
    out.push("</ul>");
  }
  out.push("<h2>Gaps: clauses without a test</h2><ul>");
  out.push(
    ...(m.gaps.length
      ? m.gaps.map((g) => `<li>${html(g.clause)} (${html(g.document)})</li>`)
      : ["<li>none</li>"]),
  );
  out.push("</ul><h2>Tests that name no clause</h2><ul>");
  out.push(
    ...(m.testsWithoutClause.length
      ? m.testsWithoutClause.map((t) => `<li>${html(t)}</li>`)
      : ["<li>none</li>"]),
  );
  out.push("</ul></body></html>", "");
  return out.join("\n");
}
