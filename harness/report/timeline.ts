/**
 * The state timeline picture (SVG) of an emulated scenario: one lane per event kind
 * (state, power, reset, fault, usb, ...) on the device's time axis. States and power are drawn
 * as spans (a state lasts until the next one), everything else as ticks; injected faults are
 * red. Plain SVG with <title> tooltips, no scripts, deterministic for the same events.
 */
import type { DeviceEvent } from "../devices/emulated-device.js";

export interface TimelineInput {
  title: string;
  events: readonly DeviceEvent[];
  /** Power history (SimPower.history): on/off/lost/reset. */
  power?: readonly { t: number; event: string; reason?: string | undefined }[];
  /** Faults that fired (FaultPlan.fired). */
  faults?: readonly { t: number; detail: string; what: string }[];
  /** Wall time of the scenario in ms, printed beside the device time. */
  wallMs?: number | undefined;
  /** Draw only the last this many events, and power changes and faults from the first of them on. */
  maxEvents?: number | undefined;
}

const LANE_H = 26;
const LEFT = 90;
const WIDTH = 960;
const SPAN_KINDS = new Set(["state", "power"]);
const COLOURS = ["#7fb3e0", "#9fd39f", "#f2c879", "#c7a8e0", "#8fd3cf", "#e0a8c0"];

const esc = (s: string) =>
  s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

/** "1.234 s" / "12 ms" for an axis label. */
export function formatDeviceTime(ms: number): string {
  return Math.abs(ms) >= 1000 ? `${(ms / 1000).toFixed(3)} s` : `${Math.round(ms * 1000) / 1000} ms`;
}

export function renderTimelineSvg(full: TimelineInput): string {
  const input = window(full);
  type Mark = { t: number; text: string; fault?: boolean };
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
    add("power", { t: p.t, text: p.reason ? `${p.event}: ${p.reason}` : p.event });
  for (const f of input.faults ?? []) add("fault", { t: f.t, text: `${f.detail}: ${f.what}`, fault: true });

  const times = [...lanes.values()].flat().map((m) => m.t);
  const t0 = times.length ? Math.min(...times) : 0;
  const t1 = Math.max(times.length ? Math.max(...times) : 0, t0 + 1);
  const order = ["state", "power", "reset", "fault"];
  const names = [...lanes.keys()].sort((a, b) => {
    const ia = order.indexOf(a);
    const ib = order.indexOf(b);
    return (ia < 0 ? order.length : ia) - (ib < 0 ? order.length : ib) || a.localeCompare(b);
  });
  const plotW = WIDTH - LEFT - 20;
  const x = (t: number) => LEFT + ((t - t0) / (t1 - t0)) * plotW;
  const height = 50 + names.length * LANE_H + 30;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="sans-serif" font-size="11">`,
    `<rect width="100%" height="100%" fill="#fff"/>`,
    `<text x="8" y="18" font-size="13" font-weight="bold">${esc(input.title)}</text>`,
    `<text x="8" y="34" fill="#555">device time ${esc(formatDeviceTime(t0))} → ${esc(formatDeviceTime(t1))}${
      input.wallMs !== undefined ? `; wall time ${esc(formatDeviceTime(input.wallMs))}` : ""
    }; ${input.events.length < full.events.length ? `last ${input.events.length} of ${full.events.length}` : input.events.length} events</text>`,
  ];
  names.forEach((name, i) => {
    const y = 50 + i * LANE_H;
    const marks = (lanes.get(name) ?? []).slice().sort((a, b) => a.t - b.t);
    out.push(`<text x="8" y="${y + 16}" font-weight="bold">${esc(name)}</text>`);
    out.push(
      `<line x1="${LEFT}" y1="${y + LANE_H - 2}" x2="${LEFT + plotW}" y2="${y + LANE_H - 2}" stroke="#eee"/>`,
    );
    const colourOf = new Map<string, string>();
    marks.forEach((m, j) => {
      const tip = `<title>${esc(`${formatDeviceTime(m.t)}  ${name}: ${m.text}`)}</title>`;
      if (SPAN_KINDS.has(name)) {
        const end = marks[j + 1]?.t ?? t1;
        const w = Math.max(2, x(end) - x(m.t));
        const key = name === "power" ? (m.text.split(":")[0] ?? m.text) : m.text;
        if (!colourOf.has(key)) colourOf.set(key, COLOURS[colourOf.size % COLOURS.length] ?? "#ccc");
        const fill = name === "power" && /^(off|lost)/.test(m.text) ? "#444" : colourOf.get(key);
        out.push(
          `<g><rect x="${x(m.t).toFixed(1)}" y="${y + 3}" width="${w.toFixed(1)}" height="${LANE_H - 8}" fill="${fill}" stroke="#fff">${tip}</rect>`,
        );
        if (w > 40)
          out.push(
            `<text x="${(x(m.t) + 3).toFixed(1)}" y="${y + 16}" fill="${fill === "#444" ? "#fff" : "#000"}">${esc(truncate(m.text, Math.floor(w / 6)))}</text>`,
          );
        out.push("</g>");
      } else {
        const colour = m.fault ? "#d62728" : "#333";
        out.push(
          `<g><line x1="${x(m.t).toFixed(1)}" y1="${y + 3}" x2="${x(m.t).toFixed(1)}" y2="${y + LANE_H - 5}" stroke="${colour}" stroke-width="${m.fault ? 3 : 1.5}"/><rect x="${(x(m.t) - 3).toFixed(1)}" y="${y + 3}" width="6" height="${LANE_H - 8}" fill-opacity="0">${tip}</rect></g>`,
        );
      }
    });
  });
  const axisY = 50 + names.length * LANE_H + 4;
  out.push(`<line x1="${LEFT}" y1="${axisY}" x2="${LEFT + plotW}" y2="${axisY}" stroke="#888"/>`);
  for (let k = 0; k <= 4; k++) {
    const t = t0 + ((t1 - t0) * k) / 4;
    out.push(
      `<text x="${x(t).toFixed(1)}" y="${axisY + 14}" text-anchor="${k === 0 ? "start" : k === 4 ? "end" : "middle"}" fill="#555">${esc(formatDeviceTime(t))}</text>`,
    );
  }
  out.push("</svg>", "");
  return out.join("\n");
}

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
  };
}

function truncate(s: string, n: number): string {
  return s.length <= n ? s : `${s.slice(0, Math.max(1, n - 1))}…`;
}
