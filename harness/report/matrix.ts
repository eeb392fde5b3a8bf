/**
 * The qualification matrix: every document clause the project knows (clauses.yaml) × every
 * rig/board the results ran on → passed / failed (with category) / skipped (with reason) /
 * not run, and the tests behind each cell. Clauses without a test are listed as gaps, clauses
 * named by a test but missing from the catalogue are listed too, so neither can hide.
 */
import {
  type Citation,
  type ClauseCatalogue,
  citationOf,
  type DocumentSource,
  type Severity,
} from "./catalogue.js";
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

export type CellStatus = "passed" | "failed" | "broken" | "skipped" | "not run";

export interface MatrixCell {
  status: CellStatus;
  /** The tests behind the cell (names), and for failures their category. */
  tests: { name: string; status: ResultStatus; category?: string | undefined }[];
  /** Why the cell is skipped (the skip reason of the suite or test). */
  reason?: string | undefined;
}

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
  /** Test names covering this clause on any column. */
  tests: string[];
  cells: MatrixCell[];
}

export interface QualificationMatrix {
  /** "rig / board" column keys. */
  columns: string[];
  rows: MatrixRow[];
  /** Catalogued clauses no test names. */
  gaps: MatrixRow[];
  /** Tests on a board that name no clause (full names). */
  testsWithoutClause: string[];
}

const UNCATALOGUED = "Not in the catalogue";

function columnOf(r: HilResult): string | undefined {
  const rig = label(r, "rig");
  if (rig === undefined) return undefined;
  return `${rig} / ${label(r, "board") ?? "—"}`;
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

export function buildMatrix(catalogue: ClauseCatalogue, results: readonly HilResult[]): QualificationMatrix {
  const onRig = results.filter((r) => columnOf(r) !== undefined);
  // Columns: boards the run used; a rig where every suite skipped still gets a "rig / —" column.
  const boardColumns = new Set(
    onRig.filter((r) => label(r, "board") !== undefined).map((r) => columnOf(r) as string),
  );
  const rigsWithBoards = new Set(
    onRig.filter((r) => label(r, "board") !== undefined).map((r) => label(r, "rig") as string),
  );
  for (const r of onRig)
    if (!rigsWithBoards.has(label(r, "rig") as string)) boardColumns.add(columnOf(r) as string);
  const columns = [...boardColumns].sort();

  // Whole-suite skips (forEachBoard found no board): by rig and spec file.
  const suiteSkips = onRig.filter((r) => r.status === "skipped" && label(r, "board") === undefined);

  const byClause = new Map<string, HilResult[]>();
  for (const r of onRig)
    for (const c of labelValues(r, CLAUSE_LABEL)) {
      const list = byClause.get(c) ?? [];
      list.push(r);
      byClause.set(c, list);
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
    const packages = new Set(covering.map((r) => label(r, "package")));
    const cells = columns.map((col): MatrixCell => {
      const here = covering.filter((r) => columnOf(r) === col);
      if (here.length > 0) {
        const status = cellStatus(here.map((r) => r.status));
        const skipped = here.find((r) => r.status === "skipped");
        return {
          status,
          tests: here.map((r) => ({ name: r.name, status: r.status, category: r.category })),
          reason: status === "skipped" && skipped ? skipReason(skipped) : undefined,
        };
      }
      const rig = col.split(" / ")[0];
      const skip = suiteSkips.find((r) => label(r, "rig") === rig && packages.has(label(r, "package")));
      if (skip) return { status: "skipped", tests: [], reason: skipReason(skip) };
      return { status: "not run", tests: [] };
    });
    return {
      clause,
      document,
      severity,
      citation,
      sources,
      set,
      catalogued,
      tests: [...new Set(covering.map((r) => r.name))].sort(),
      cells,
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
    ...new Set(
      onRig
        .filter((r) => label(r, "board") !== undefined && labelValues(r, CLAUSE_LABEL).length === 0)
        .map((r) => r.fullName),
    ),
  ].sort();
  return {
    columns,
    rows,
    gaps: rows.filter((r) => r.catalogued && r.tests.length === 0),
    testsWithoutClause,
  };
}

const SYMBOL: Record<CellStatus, string> = {
  passed: "passed",
  failed: "FAILED",
  broken: "BROKEN",
  skipped: "skipped",
  "not run": "—",
};

function cellText(cell: MatrixCell): string {
  if (cell.status === "skipped") return `skipped: ${cell.reason ?? ""}`.trim();
  if (cell.status === "failed" || cell.status === "broken") {
    const cats = [...new Set(cell.tests.map((t) => t.category).filter(Boolean))];
    return `${SYMBOL[cell.status]}${cats.length ? ` (${cats.join(", ")})` : ""}`;
  }
  if (cell.status === "passed") return `passed (${cell.tests.length})`;
  return SYMBOL[cell.status];
}

const md = (s: string) => s.replace(/\|/g, "\\|").replace(/\n/g, " ");

/** "AN5185 Rev 1 (21-Mar-2019), ST firmware upgrade services for STM32WB Series". */
function sourceText(s: DocumentSource): string {
  return `${s.name} ${s.revision}${s.date ? ` (${s.date})` : ""}, ${s.title}`;
}
const sourceMarkdown = (s: DocumentSource) =>
  s.url ? `[${md(sourceText(s))}](${s.url})` : md(sourceText(s));
const citationMarkdown = (c: Citation | undefined) =>
  c === undefined ? "" : c.url ? `[${md(c.text)}](${c.url})` : md(c.text);

/** The matrix as Markdown: a table per document, then gaps and tests without a clause. */
export function matrixMarkdown(m: QualificationMatrix, title = "Qualification matrix"): string {
  const out = [`# ${title}`, ""];
  const counted = (s: CellStatus) => m.rows.flatMap((r) => r.cells).filter((c) => c.status === s).length;
  out.push(
    `${m.rows.length} clauses × ${m.columns.length} rig/board columns: ${counted("passed")} passed, ${counted("failed")} failed, ${counted("broken")} broken, ${counted("skipped")} skipped, ${counted("not run")} not run; ${m.gaps.length} clauses without a test.`,
    "",
  );
  for (const doc of [...new Set(m.rows.map((r) => r.document))]) {
    const rows = m.rows.filter((x) => x.document === doc);
    out.push(`## ${doc}`, "");
    const sources = rows[0]?.sources ?? [];
    if (sources.length) out.push(`Sources: ${sources.map(sourceMarkdown).join("; ")}`, "");
    out.push(`| clause | cites | severity | ${m.columns.map(md).join(" | ")} | tests |`);
    out.push(`|---|---|---|${m.columns.map(() => "---").join("|")}|---|`);
    for (const r of rows) {
      const tests = r.tests.length ? r.tests.map(md).join("<br>") : "**gap: no test**";
      out.push(
        `| ${md(r.clause)} | ${citationMarkdown(r.citation)} | ${r.severity} | ${r.cells.map((c) => md(cellText(c))).join(" | ")} | ${tests} |`,
      );
    }
    out.push("");
  }
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

/** The matrix as one self-contained HTML page (no scripts, inline styles). */
export function matrixHtml(m: QualificationMatrix, title = "Qualification matrix"): string {
  const out = [
    "<!doctype html>",
    '<html lang="en"><head><meta charset="utf-8">',
    `<title>${html(title)}</title>`,
    "<style>body{font:13px system-ui,sans-serif;margin:1.5em}table{border-collapse:collapse;margin-bottom:1.5em}",
    "th,td{border:1px solid #ccc;padding:3px 6px;vertical-align:top}th{background:#f3f3f3;text-align:left}",
    ".passed{background:#d9f2d9}.failed{background:#f8c8c8;font-weight:bold}.broken{background:#f6dca8;font-weight:bold}",
    ".skipped{background:#eee;color:#555}.notrun{color:#999}.gap{background:#fff3b0}td.tests{font-size:11px;color:#444}</style>",
    `</head><body><h1>${html(title)}</h1>`,
    `<p>${m.rows.length} clauses × ${m.columns.length} rig/board columns; ${m.gaps.length} clauses without a test.</p>`,
  ];
  for (const doc of [...new Set(m.rows.map((r) => r.document))]) {
    const rows = m.rows.filter((x) => x.document === doc);
    out.push(`<h2>${html(doc)}</h2>`);
    const sources = rows[0]?.sources ?? [];
    if (sources.length) out.push(`<p>Sources: ${sources.map(sourceHtml).join("; ")}</p>`);
    out.push("<table><thead><tr><th>clause</th><th>cites</th><th>severity</th>");
    out.push(...m.columns.map((c) => `<th>${html(c)}</th>`), "<th>tests</th></tr></thead><tbody>");
    for (const r of rows) {
      out.push(
        `<tr${r.tests.length === 0 && r.catalogued ? ' class="gap"' : ""}><td>${html(r.clause)}</td><td>${citationHtml(r.citation)}</td><td>${r.severity}</td>`,
      );
      for (const c of r.cells) {
        const title = c.tests.map((t) => `${t.name}: ${t.status}`).join("\n");
        out.push(
          `<td class="${c.status === "not run" ? "notrun" : c.status}" title="${html(title)}">${html(cellText(c))}</td>`,
        );
      }
      out.push(
        `<td class="tests">${r.tests.length ? r.tests.map(html).join("<br>") : "<b>gap: no test</b>"}</td></tr>`,
      );
    }
    out.push("</tbody></table>");
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
