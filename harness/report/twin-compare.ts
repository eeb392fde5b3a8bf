/**
 * A lab board against its emulated twin: the same scenario's transcripts, normalised
 * (twin-normalise.ts), compared exchange by exchange. The first divergence is a finding
 * about the emulator, not a failure of the board: both sides' exchanges around it, the
 * protocol state each side was in, and the clauses the test checks.
 */
import { annotateDfu } from "../protocol/dfu/annotate.js";
import { annotateSmp } from "../protocol/smp/annotate.js";
import { annotateUsart } from "../protocol/stm32-usart/annotate.js";
import { annotateTKey } from "../protocol/tkey/annotate.js";
import type { TranscriptAnnotator, TranscriptEntry } from "../seams/transcript.js";
import { fromHex } from "../transport/hex.js";
import { canonical } from "./transcript-compare.js";
import { type NormalEntry, normalise, type TranscriptSegment } from "./twin-normalise.js";

/** One side of a twin comparison: what one test recorded on one board. */
export interface TwinRecord {
  readonly board: string;
  readonly segments: readonly TranscriptSegment[];
  /** How the test ended on this board; an error's first line when it failed. */
  readonly outcome: "passed" | "failed" | "skipped";
  readonly error?: string | undefined;
  /** The emulator's last logged event (twin only): its protocol state from the inside. */
  readonly deviceState?: string | undefined;
}

export interface TwinSide {
  readonly board: string;
  /** The diverging exchange, one line; "(end)" past the last one. */
  readonly exchange: string;
  /** Its bytes in hex (masked bytes as "xx"), when it has any. */
  readonly hex: string | undefined;
  /** Up to CONTEXT exchanges before it, one line each. */
  readonly before: readonly string[];
  /** The client operation in force and the last exchange, and on the twin the emulator's last event. */
  readonly state: string;
}

export interface TwinDivergence {
  /** 0-based index of the first diverging exchange in the normalised sequence. */
  readonly index: number;
  readonly lab: TwinSide;
  readonly twin: TwinSide;
  /** The clauses the test declares (`covers`): what was being checked when they parted. */
  readonly clauses: readonly string[];
  /** Same exchanges, different outcome: the divergence is the outcome itself. */
  readonly outcomeOnly: boolean;
}

/** How many exchanges before the divergence each side shows. */
export const CONTEXT = 4;

const ANNOTATORS: Readonly<Record<string, TranscriptAnnotator>> = {
  usart: annotateUsart,
  dfu: annotateDfu,
  tkey: annotateTKey,
  smp: annotateSmp,
};

const ARROW: Record<NormalEntry["dir"], string> = {
  tx: ">>",
  "ctrl-out": ">>",
  rx: "<<",
  "ctrl-in": "<<",
  event: "--",
};

const keyOf = (e: NormalEntry) => {
  const { at: _at, ...rest } = e;
  return canonical(rest);
};

/** One exchange as a line: index, link, direction, what the protocol annotator reads, bytes. */
export function exchangeLine(e: NormalEntry | undefined, index: number): string {
  if (!e) return `[${index}] (end)`;
  const entry: TranscriptEntry = { t: 0, dir: e.dir };
  if (e.hex !== undefined) entry.bytes = fromHex(e.hex.replace(/xx/g, "00"));
  if (e.note !== undefined) entry.note = e.note;
  if (e.setup) entry.setup = e.setup;
  if (e.status) entry.status = e.status;
  const said = ANNOTATORS[e.link]?.(entry)?.text;
  const parts = [`[${index}]`, e.link, ARROW[e.dir], e.dir];
  if (said) parts.push(said);
  else if (e.note !== undefined) parts.push(e.note);
  if (e.status && e.status !== "ok") parts.push(`(${e.status})`);
  const line = parts.join(" ");
  if (e.hex === undefined || e.hex.length === 0) return line;
  return `${line}: ${e.hex.length > 64 ? `${e.hex.slice(0, 64)}… (${e.hex.length / 2} bytes)` : e.hex}`;
}

function side(record: TwinRecord, entries: readonly NormalEntry[], index: number): TwinSide {
  const op = [...entries.slice(0, index)].reverse().find((e) => e.dir === "event" && e.note !== undefined);
  const last = index > 0 ? exchangeLine(entries[index - 1], index - 1) : "none";
  const state = [
    `operation: ${op?.note ?? "none yet"}`,
    `last exchange: ${last}`,
    ...(record.deviceState ? [`emulator: ${record.deviceState}`] : []),
    `outcome: ${record.outcome}${record.error ? ` (${record.error})` : ""}`,
  ].join("; ");
  return {
    board: record.board,
    exchange: exchangeLine(entries[index], index),
    hex: entries[index]?.hex,
    before: entries
      .slice(Math.max(0, index - CONTEXT), index)
      .map((e, k) => exchangeLine(e, Math.max(0, index - CONTEXT) + k)),
    state,
  };
}

/** The first divergence of `twin` from `lab`, or undefined when they agree (outcome included). */
export function compareTwin(
  lab: TwinRecord,
  twin: TwinRecord,
  clauses: readonly string[] = [],
): TwinDivergence | undefined {
  const a = normalise(lab.segments);
  const b = normalise(twin.segments);
  const length = Math.max(a.length, b.length);
  for (let i = 0; i < length; i++) {
    const x = a[i];
    const y = b[i];
    if (x && y && keyOf(x) === keyOf(y)) continue;
    return { index: i, lab: side(lab, a, i), twin: side(twin, b, i), clauses, outcomeOnly: false };
  }
  if (lab.outcome === twin.outcome) return undefined;
  return {
    index: length,
    lab: side(lab, a, length),
    twin: side(twin, b, length),
    clauses,
    outcomeOnly: true,
  };
}

/** The divergence as the report's text attachment. */
export function renderDivergence(d: TwinDivergence): string {
  const block = (what: string, s: TwinSide) => [
    `${what} ${s.board}:`,
    `  state: ${s.state}`,
    ...s.before.map((l) => `    ${l}`),
    `  → ${s.exchange}`,
  ];
  return [
    d.outcomeOnly
      ? `same exchanges, different outcome (after exchange ${d.index - 1})`
      : `first divergence at exchange ${d.index}`,
    `clauses in force: ${d.clauses.length ? d.clauses.join("; ") : "none declared"}`,
    ...block("lab", d.lab),
    ...block("twin", d.twin),
    "",
  ].join("\n");
}

/** One line for labels and summaries: "exchange 3: lab <<rx 7979 / twin <<rx 79". */
export function divergenceLine(d: TwinDivergence): string {
  if (d.outcomeOnly)
    return `outcome: lab ${d.lab.state.split("outcome: ")[1]} / twin ${d.twin.state.split("outcome: ")[1]}`;
  const short = (s: TwinSide) => s.exchange.replace(/^\[\d+\] /, "");
  return `exchange ${d.index}: lab ${short(d.lab)} / twin ${short(d.twin)}`;
}
