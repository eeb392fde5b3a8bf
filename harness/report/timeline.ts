/**
 * The state timeline picture (SVG) of an emulated scenario: one lane per event kind
 * (state, dfu state, power, reset, fault, usb, ...) and a lane for the client operations, on
 * the device's time axis with round ticks. States and power are bands (a state lasts until
 * the next one) labelled where they are wide enough; other events are ticks labelled where
 * there is room before the next; an injected fault is a red line across every lane, named.
 * Every mark has a <title> tooltip with the full text. Plain SVG, no scripts, deterministic
 * for the same input.
 */
import type { DeviceEvent } from "../seams/device-log.js";

/** A client operation ("download 37 blocks") on the device time axis. */
export interface OperationSpan {
  title: string;
  start: number;
  end: number;
  /** 0 for an operation the test called, 1 for one inside it, ... */
  depth: number;
  /** How it ended: passed, with an error, or with the error the test expected. */
  outcome: "ok" | "failed" | "expected";
}

export interface TimelineInput {
  title: string;
  events: readonly DeviceEvent[];
  /** Power history (SimPower.history): on/off/lost/reset. */
  power?: readonly { t: number; event: string; reason?: string | undefined }[];
  /** Faults that fired (FaultPlan.fired). */
  faults?: readonly { t: number; detail: string; what: string }[];
  /** Client operations of the test. */
  operations?: readonly OperationSpan[];
  /** Wall time of the scenario in ms, printed beside the device time. */
  wallMs?: number | undefined;
  /** Draw only the last this many events, and power changes and faults from the first of them on. */
  maxEvents?: number | undefined;
}

const LANE_H = 26;
const LEFT = 110;
const WIDTH = 960;
const TOP = 50;
const LEGEND_H = 16;
/** Fewer characters than this of a label (and not all of it): left out (a band's is in the legend). */
const MIN_LABEL_CHARS = 8;
/** Width of a character of the 10 px label font, a little generous (labels must not overlap). */
const CHAR_W = 6.5;
const COLOURS = ["#7fb3e0", "#9fd39f", "#f2c879", "#c7a8e0", "#8fd3cf", "#e0a8c0"];
const FAULT = "#d62728";
const OPERATIONS = "client";
/** Characters of the 13 px bold title that fit the width. */
const TITLE_CHARS = Math.floor((WIDTH - 16) / 8);
/** Lanes in this order first; the rest by name. */
const ORDER = ["state", "dfu state", "power", "reset", "fault", OPERATIONS];

/** A lane drawn as bands: what it says holds until its next event. */
const isBandLane = (kind: string) => kind === "state" || kind.endsWith(" state") || kind === "power";

const esc = (s: string) =>
  s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

/** "1.234 s" / "12 ms" for an axis label. */
export function formatDeviceTime(ms: number): string {
  return Math.abs(ms) >= 1000 ? `${(ms / 1000).toFixed(3)} s` : `${Math.round(ms * 1000) / 1000} ms`;
}

/**
 * Axis ticks for `t0..t1`: a round step (1, 2 or 5 × 10^k ms) giving about seven ticks, every
 * multiple of it in range, each labelled with no more decimals than the step needs.
 */
export function axisTicks(t0: number, t1: number, about = 7): { t: number; label: string }[] {
  const span = Math.max(t1 - t0, 1e-6);
  const rough = span / about;
  const power = 10 ** Math.floor(Math.log10(rough));
  const step = ([1, 2, 5, 10].find((m) => m * power >= rough) ?? 10) * power;
  const seconds = step >= 1000 || t1 >= 10_000;
  const unit = seconds ? 1000 : 1;
  const decimals = Math.max(0, -Math.floor(Math.log10(step / unit) + 1e-9));
  const ticks: { t: number; label: string }[] = [];
  for (let k = Math.ceil(t0 / step - 1e-9); k * step <= t1 + 1e-9; k++) {
    const t = k * step;
    ticks.push({ t, label: `${(t / unit).toFixed(decimals)} ${seconds ? "s" : "ms"}` });
  }
  return ticks;
}

interface Mark {
  t: number;
  text: string;
  /** Short label in the picture (text is the tooltip). */
  label?: string;
  fault?: boolean;
}

export function renderTimelineSvg(full: TimelineInput): string {
  const input = window(full);
  const lanes = new Map<string, Mark[]>();
  const add = (lane: string, mark: Mark) => {
    const list = lanes.get(lane) ?? [];
    list.push(mark);
    lanes.set(lane, list);
  };
  for (const e of input.events) {
    if (e.kind === "power" && input.power) continue; // the power history below says it better
    add(e.kind, { t: e.t, text: e.detail, fault: e.kind === "fault" });
  }
  for (const p of input.power ?? [])
    add("power", { t: p.t, text: p.reason ? `${p.event}: ${p.reason}` : p.event, label: p.event });
  for (const f of input.faults ?? [])
    add("fault", { t: f.t, text: `${f.detail}: ${f.what}`, label: f.what, fault: true });
  const operations = input.operations ?? [];
  if (operations.length > 0) lanes.set(OPERATIONS, []);

  const times = [
    ...[...lanes.values()].flat().map((m) => m.t),
    ...operations.flatMap((o) => [o.start, o.end]),
  ];
  const t0 = times.length ? Math.min(...times) : 0;
  const t1 = Math.max(times.length ? Math.max(...times) : 0, t0 + 1);
  const names = [...lanes.keys()].sort((a, b) => {
    const ia = ORDER.indexOf(a);
    const ib = ORDER.indexOf(b);
    return (ia < 0 ? ORDER.length : ia) - (ib < 0 ? ORDER.length : ib) || a.localeCompare(b);
  });
  const opRows = Math.max(1, ...operations.map((o) => o.depth + 1));
  const laneHeight = (name: string) => (name === OPERATIONS ? opRows * (LANE_H - 8) + 8 : LANE_H);
  const laneY = new Map<string, number>();
  let y = TOP;
  for (const name of names) {
    laneY.set(name, y);
    y += laneHeight(name);
  }
  const axisY = y + 4;
  const plotW = WIDTH - LEFT - 20;
  const x = (t: number) => LEFT + ((t - t0) / (t1 - t0)) * plotW;
  const height = axisY + 30;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="sans-serif" font-size="11">`,
    `<rect width="100%" height="100%" fill="#fff"/>`,
    `<text x="8" y="18" font-size="13" font-weight="bold">${esc(truncate(input.title, TITLE_CHARS))}<title>${esc(input.title)}</title></text>`,
    `<text x="8" y="34" fill="#555">device time ${esc(formatDeviceTime(t0))} → ${esc(formatDeviceTime(t1))}${
      input.wallMs !== undefined ? `; wall time ${esc(formatDeviceTime(input.wallMs))}` : ""
    }; ${input.events.length < full.events.length ? `last ${input.events.length} of ${full.events.length}` : input.events.length} events</text>`,
  ];
  // Grid lines at the round ticks, under everything else.
  const ticks = axisTicks(t0, t1);
  for (const tick of ticks)
    out.push(
      `<line x1="${x(tick.t).toFixed(1)}" y1="${TOP}" x2="${x(tick.t).toFixed(1)}" y2="${axisY}" stroke="#f0f0f0"/>`,
    );
  const legends: { name: string; unlabelled: Map<string, string> }[] = [];
  for (const name of names) {
    const top = laneY.get(name) ?? TOP;
    const h = laneHeight(name);
    out.push(`<text x="8" y="${top + 16}" font-weight="bold">${esc(name)}</text>`);
    out.push(
      `<line x1="${LEFT}" y1="${top + h - 2}" x2="${LEFT + plotW}" y2="${top + h - 2}" stroke="#eee"/>`,
    );
    if (name === OPERATIONS) out.push(...operationBars(operations, top, x));
    else {
      const marks = (lanes.get(name) ?? []).slice().sort((a, b) => a.t - b.t);
      if (!isBandLane(name)) out.push(...ticksOf(name, marks, top, x, LEFT + plotW));
      else {
        const unlabelled = new Map<string, string>();
        out.push(...bands(name, marks, top, x, t1, unlabelled));
        if (unlabelled.size > 0) legends.push({ name, unlabelled });
      }
    }
  }
  // Each fault that fired: a red line across every lane, so what it hit lines up under it.
  for (const f of input.faults ?? [])
    out.push(
      `<line x1="${x(f.t).toFixed(1)}" y1="${TOP}" x2="${x(f.t).toFixed(1)}" y2="${axisY}" stroke="${FAULT}" stroke-width="1" stroke-dasharray="4 3"><title>${esc(`${formatDeviceTime(f.t)}  injected ${f.what}: ${f.detail}`)}</title></line>`,
    );
  out.push(`<line x1="${LEFT}" y1="${axisY}" x2="${LEFT + plotW}" y2="${axisY}" stroke="#888"/>`);
  for (const tick of ticks) {
    const at = x(tick.t);
    const anchor = at - LEFT < 20 ? "start" : LEFT + plotW - at < 20 ? "end" : "middle";
    out.push(
      `<line x1="${at.toFixed(1)}" y1="${axisY}" x2="${at.toFixed(1)}" y2="${axisY + 4}" stroke="#888"/>`,
      `<text x="${at.toFixed(1)}" y="${axisY + 16}" text-anchor="${anchor}" fill="#555">${esc(tick.label)}</text>`,
    );
  }
  // Bands too narrow for their name: a legend per lane under the axis.
  legends.forEach(({ name, unlabelled }, i) => {
    const ly = axisY + 36 + i * LEGEND_H;
    let lx = LEFT;
    out.push(`<text x="8" y="${ly}" fill="#555">${esc(name)}:</text>`);
    for (const [label, fill] of unlabelled) {
      if (lx + 14 + label.length * CHAR_W > WIDTH - 8) break;
      out.push(
        `<rect x="${lx}" y="${ly - 9}" width="10" height="10" fill="${fill}"/>`,
        `<text x="${lx + 13}" y="${ly}" font-size="10">${esc(label)}</text>`,
      );
      lx += 13 + label.length * CHAR_W + 12;
    }
  });
  out.push("</svg>", "");
  // The legend rows were not known when the height was written.
  if (legends.length > 0) {
    const full = height + legends.length * LEGEND_H;
    out[0] = out[0]!.replace(
      `height="${height}" viewBox="0 0 ${WIDTH} ${height}"`,
      `height="${full}" viewBox="0 0 ${WIDTH} ${full}"`,
    );
  }
  return out.join("\n");
}

/** A band lane: each mark holds until the next one, labelled inside where it fits. */
function bands(
  name: string,
  marks: readonly Mark[],
  top: number,
  x: (t: number) => number,
  t1: number,
  unlabelled: Map<string, string>,
): string[] {
  const out: string[] = [];
  const colourOf = new Map<string, string>();
  marks.forEach((m, j) => {
    const end = marks[j + 1]?.t ?? t1;
    const w = Math.max(2, x(end) - x(m.t));
    const label = m.label ?? m.text;
    const key = name === "power" ? label : m.text;
    if (!colourOf.has(key)) colourOf.set(key, COLOURS[colourOf.size % COLOURS.length] ?? "#ccc");
    const dark = name === "power" && /^(off|lost)/.test(m.text);
    const fill = dark ? "#444" : colourOf.get(key);
    out.push(
      `<g><rect x="${x(m.t).toFixed(1)}" y="${top + 3}" width="${w.toFixed(1)}" height="${LANE_H - 8}" fill="${fill}" stroke="#fff">${tooltip(m, name)}</rect>`,
    );
    const chars = Math.floor((w - 4) / CHAR_W);
    // Named inside when the name fits or most of it does; the legend names the colour otherwise.
    if (chars >= Math.min(label.length, MIN_LABEL_CHARS))
      out.push(
        `<text x="${(x(m.t) + 3).toFixed(1)}" y="${top + 16}" font-size="10" fill="${dark ? "#fff" : "#000"}">${esc(truncate(label, chars))}</text>`,
      );
    if (chars < label.length) unlabelled.set(label, fill ?? "#ccc");
    out.push("</g>");
  });
  return out;
}

/**
 * A tick lane: a tick per event, labelled beside it, to the right where the label fits before
 * the next tick, else to the left where it fits after the previous label; events at the same
 * place share one label (a named fault's first).
 */
function ticksOf(
  name: string,
  marks: readonly Mark[],
  top: number,
  x: (t: number) => number,
  right: number,
): string[] {
  const out: string[] = [];
  let taken = LEFT; // where the previous label (or tick) ends
  marks.forEach((m, j) => {
    const at = x(m.t);
    const colour = m.fault ? FAULT : "#333";
    out.push(
      `<g><line x1="${at.toFixed(1)}" y1="${top + 3}" x2="${at.toFixed(1)}" y2="${top + LANE_H - 5}" stroke="${colour}" stroke-width="${m.fault ? 3 : 1.5}"/><rect x="${(at - 3).toFixed(1)}" y="${top + 3}" width="6" height="${LANE_H - 8}" fill-opacity="0">${tooltip(m, name)}</rect>`,
    );
    const sameAsPrevious = j > 0 && at - x(marks[j - 1]!.t) < 1;
    let next = j + 1;
    while (next < marks.length && x(marks[next]!.t) - at < 1) next++;
    if (!sameAsPrevious) {
      const here = marks.slice(j, next);
      const mark = here.find((h) => h.label !== undefined) ?? m;
      const text = mark.label ?? mark.text;
      const need = text.length * CHAR_W;
      const roomRight = (next < marks.length ? x(marks[next]!.t) : right) - at - 6;
      const roomLeft = at - taken - 6;
      const toLeft = need > roomRight && roomLeft > roomRight;
      const chars = Math.floor((toLeft ? roomLeft : roomRight) / CHAR_W);
      if (chars >= Math.min(text.length, MIN_LABEL_CHARS)) {
        const shown = truncate(text, chars);
        out.push(
          `<text x="${(toLeft ? at - 3 : at + 3).toFixed(1)}" y="${top + 16}" font-size="10"${toLeft ? ' text-anchor="end"' : ""} fill="${mark.fault ? FAULT : colour}">${esc(shown)}</text>`,
        );
        taken = toLeft ? at : at + 3 + shown.length * CHAR_W;
      } else taken = Math.max(taken, at);
    }
    out.push("</g>");
  });
  return out;
}

/** The client lane: one row per nesting depth, a bar per operation, labelled where it fits. */
function operationBars(
  operations: readonly OperationSpan[],
  top: number,
  x: (t: number) => number,
): string[] {
  const out: string[] = [];
  const rowH = LANE_H - 8;
  for (const o of [...operations].sort((a, b) => a.depth - b.depth || a.start - b.start)) {
    const left = x(o.start);
    const w = Math.max(3, x(o.end) - left);
    const rowY = top + 3 + o.depth * rowH;
    const fill = o.outcome === "failed" ? "#f4a6a6" : o.outcome === "expected" ? "#d9c6f2" : "#cfd8e3";
    const tip = `${formatDeviceTime(o.start)} → ${formatDeviceTime(o.end)}  ${o.title}${o.outcome === "failed" ? " (failed)" : ""}`;
    out.push(
      `<g><rect x="${left.toFixed(1)}" y="${rowY}" width="${w.toFixed(1)}" height="${rowH - 2}" fill="${fill}" stroke="#8a9bb0"><title>${esc(tip)}</title></rect>`,
    );
    const chars = Math.floor((w - 4) / CHAR_W);
    if (chars >= 3)
      out.push(
        `<text x="${(left + 3).toFixed(1)}" y="${rowY + 12}" font-size="10">${esc(truncate(o.title, chars))}</text>`,
      );
    out.push("</g>");
  }
  return out;
}

const tooltip = (m: Mark, lane: string) =>
  `<title>${esc(`${formatDeviceTime(m.t)}  ${lane}: ${m.text}`)}</title>`;

/** The input cut to its last `maxEvents` events (and what happened from the first of them on). */
function window(input: TimelineInput): TimelineInput {
  const max = input.maxEvents;
  if (max === undefined || input.events.length <= max) return input;
  const events = input.events.slice(-max);
  const from = events[0]?.t ?? 0;
  return {
    ...input,
    events,
    power: input.power?.filter((p) => p.t >= from),
    faults: input.faults?.filter((f) => f.t >= from),
    operations: input.operations?.filter((o) => o.end >= from),
  };
}

function truncate(s: string, n: number): string {
  return s.length <= n ? s : `${s.slice(0, Math.max(1, n - 1))}…`;
}
