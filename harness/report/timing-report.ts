/**
 * The timing page of `hil report` (timing.md and timing.html beside the qualification
 * matrix): per board and operation, this night's time per unit against the board's own
 * history (median, min–max) and the emulator's profile figure, drift flagged, what the
 * device itself asked the host to wait (DFU bwPollTimeout), and a small SVG chart of the
 * nights.
 */
import type { OperationTrend } from "./operation-timing.js";

/** A figure in ms, to a precision that suits its size; "–" when unknown. */
export const fmt = (x: number | undefined) =>
  x === undefined || Number.isNaN(x) ? "–" : x >= 100 ? x.toFixed(0) : x >= 1 ? x.toFixed(2) : x.toFixed(4);
/** A change as a signed percentage; "–" when unknown. */
export const pct = (x: number) => (Number.isNaN(x) ? "–" : `${x >= 0 ? "+" : ""}${(x * 100).toFixed(1)} %`);

const escapeHtml = (s: string) =>
  s.replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c] as string);

export const CHART = { width: 240, height: 64, pad: 4 } as const;

/** One operation's time per unit over the nights: a line, a dot per night, the last dot red when drifting. */
export function trendChart(trend: OperationTrend): string {
  const { width, height, pad } = CHART;
  const ys = trend.series.map((p) => p.msPerUnit);
  const lo = Math.min(...ys);
  const hi = Math.max(...ys);
  const span = hi - lo || 1;
  const x = (i: number) =>
    pad + (ys.length > 1 ? (i * (width - 2 * pad)) / (ys.length - 1) : (width - 2 * pad) / 2);
  const y = (v: number) => height - pad - ((v - lo) * (height - 2 * pad)) / span;
  const points = ys.map((v, i) => `${x(i).toFixed(1)},${y(v).toFixed(1)}`).join(" ");
  const colour = trend.drift ? "#c0392b" : "#2c7fb8";
  const last = ys.length - 1;
  const title = `${trend.board} ${trend.op}: ${ys.length} nights, ${fmt(lo)}–${fmt(hi)} ms per unit`;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" class="timing-chart" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="${escapeHtml(title)}">`,
    `<title>${escapeHtml(title)}</title>`,
    `<rect width="${width}" height="${height}" fill="#fafafa" stroke="#ddd"/>`,
    `<polyline fill="none" stroke="${colour}" stroke-width="1.5" points="${points}"/>`,
    `<circle cx="${x(last).toFixed(1)}" cy="${y(ys[last] as number).toFixed(1)}" r="3" fill="${colour}"/>`,
    "</svg>",
  ].join("");
}

const HEAD = [
  "board",
  "operation",
  "nights",
  "this night (ms/unit)",
  "history median",
  "history min–max",
  "emulator",
  "change",
  "drift",
  "device asked (bwPollTimeout)",
];

function row(t: OperationTrend): string[] {
  return [
    t.board,
    t.op,
    String(t.series.length),
    fmt(t.now),
    fmt(t.historyMedian),
    `${fmt(t.historyMin)}–${fmt(t.historyMax)}`,
    fmt(t.emulatorMs),
    pct(t.change),
    t.drift ? "DRIFT" : "",
    fmt(t.deviceNow),
  ];
}

export function timingMarkdown(trends: readonly OperationTrend[]): string {
  const lines = [
    "# Operation timing",
    "",
    trends.some((t) => t.drift)
      ? `Drift on: ${trends
          .filter((t) => t.drift)
          .map((t) => `${t.board} ${t.op}`)
          .join(", ")}.`
      : "No drift flagged.",
    "",
    `| ${HEAD.join(" | ")} |`,
    `|${HEAD.map(() => "---").join("|")}|`,
    ...trends.map((t) => `| ${row(t).join(" | ")} |`),
    "",
  ];
  return lines.join("\n");
}

export function timingHtml(trends: readonly OperationTrend[]): string {
  const rows = trends
    .map(
      (t) =>
        `<tr class="${t.drift ? "drift" : ""}" data-board="${escapeHtml(t.board)}" data-op="${escapeHtml(t.op)}">${row(
          t,
        )
          .map((c) => `<td>${escapeHtml(c)}</td>`)
          .join("")}<td>${trendChart(t)}</td></tr>`,
    )
    .join("\n");
  return `<!doctype html>
<html><head><meta charset="utf-8"><title>Operation timing</title>
<style>body{font:14px sans-serif}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:2px 6px}tr.drift td{background:#fde2e0}</style>
</head><body><h1>Operation timing</h1>
<p>Time per unit (page, block, chunk, KiB) on each board's clock: wall on lab boards, virtual on emulated ones.</p>
<table><thead><tr>${[...HEAD, "chart"].map((h) => `<th>${escapeHtml(h)}</th>`).join("")}</tr></thead>
<tbody>
${rows}
</tbody></table></body></html>
`;
}
