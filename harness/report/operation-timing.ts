/**
 * Per-operation timing: what each client operation (harness/clients/operation.ts) took on a
 * board, under one name per kind of operation whatever its title says ("erase 12 pages" and
 * "erase 1 page" are both "page erase", 12 and 1 units). A night keeps, per board, a summary
 * per operation (the `timing` section of the hil history, report/night-history.ts); drift is
 * judged on the time per unit (ms per page, per block, per chunk) night against night.
 */
import { readFile } from "node:fs/promises";

/** One client operation as it ran: on which board, what, how many units, and how long. */
export interface OperationSample {
  readonly board: string;
  readonly op: string;
  readonly units: number;
  /** Board clock time: wall on a lab board, virtual on an emulated one. */
  readonly ms: number;
  /** What the device asked the host to wait within it (DFU bwPollTimeout), when it asked. */
  readonly deviceMs?: number | undefined;
}

/** How titles map to operation names; the first match wins. `units` reads the count from the match. */
const NAMES: readonly { re: RegExp; op: string; units?: (m: RegExpMatchArray) => number }[] = [
  { re: /^erase (\d+) pages?$/, op: "page erase", units: (m) => Number(m[1]) },
  { re: /^download (\d+) blocks?$/, op: "block program", units: (m) => Number(m[1]) },
  { re: /^download (\d+) bytes$/, op: "DFU download", units: (m) => Number(m[1]) / 1024 },
  { re: /^mass erase$/, op: "mass erase" },
  { re: /^write option bytes$/, op: "option-byte reload" },
  { re: /^re-enumerate$/, op: "re-enumeration after reset" },
  { re: /^leave DFU/, op: "leave DFU" },
  {
    re: /^write (\d+) bytes at \S+ \((\d+) × Write Memory\)$/,
    op: "USART write memory",
    units: (m) => Number(m[2]),
  },
  {
    re: /^read (\d+) bytes from \S+ \((\d+) × Read Memory\)$/,
    op: "USART read memory",
    units: (m) => Number(m[2]),
  },
  { re: /^FUS_FW_UPGRADE$/, op: "FUS install" },
  { re: /^stage (\d+) bytes at /, op: "FUS install: stage image", units: (m) => Number(m[1]) / 1024 },
  { re: /^(\w+|start FUS): FUS poll(?: ×(\d+))?$/, op: "FUS poll", units: (m) => Number(m[2] ?? 1) },
  // The install's phases between the resets FUS makes (clients/fus/install-phases.ts).
  { re: /^FUS install: verify and first reset$/, op: "FUS install: verify and first reset" },
  { re: /^FUS install: program (\d+) sectors?$/, op: "FUS install: program", units: (m) => Number(m[1]) },
  {
    re: /^FUS install: program (\d+) sectors? and stack start over USART$/,
    op: "FUS install: program and stack start over USART",
    units: (m) => Number(m[1]),
  },
  {
    re: /^FUS upgrade: program (\d+) sectors? over USART$/,
    op: "FUS upgrade: program over USART",
    units: (m) => Number(m[1]),
  },
  { re: /^FUS upgrade: program (\d+) sectors?$/, op: "FUS upgrade: program", units: (m) => Number(m[1]) },
  { re: /^FUS stack start$/, op: "FUS stack start" },
  { re: /^FUS_(FW_DELETE|START_WS): prepare and (first )?reset$/, op: "FUS prepare and reset" },
  { re: /^load app \((\d+) bytes\)$/, op: "TKey app load", units: (m) => Number(m[1]) / 1024 },
  { re: /^FW_CMD_LOAD_APP_DATA ×(\d+)$/, op: "TKey app data", units: (m) => Number(m[1]) },
  { re: /^image upload (\d+) bytes$/, op: "MCUboot image upload", units: (m) => Number(m[1]) / 1024 },
  { re: /^reset and swap (\d+) sectors?$/, op: "MCUboot swap", units: (m) => Number(m[1]) },
  { re: /^reset and boot$/, op: "MCUboot reset" },
];

/** The operation's name and units of work for a client operation's title; other titles keep their words, numbers masked. */
export function operationName(title: string): { op: string; units: number } {
  for (const n of NAMES) {
    const m = title.match(n.re);
    if (m) return { op: n.op, units: n.units ? n.units(m) : 1 };
  }
  return { op: title.replace(/0x[0-9a-f]+/gi, "ADDR").replace(/\d+/g, "N"), units: 1 };
}

/** One operation's figures on one board in one night. */
export interface OperationSummary {
  /** How many times it ran. */
  readonly count: number;
  readonly units: number;
  /** Total time. */
  readonly ms: number;
  /** Time per unit over the night (ms / units): what drift is judged on. */
  readonly msPerUnit: number;
  readonly minMs: number;
  readonly maxMs: number;
  /** The waits the device asked for per unit (DFU bwPollTimeout), where it asked for any. */
  readonly deviceMsPerUnit?: number;
}

/** A board's night: who it is (the health check's identity) and its operations by name. */
export interface BoardTimingNight {
  readonly board: string;
  readonly family?: string | undefined;
  readonly emulated?: boolean | undefined;
  readonly identity?: Readonly<Record<string, string>> | undefined;
  /** On an emulated twin: the lab board it ran beside (its figures are the emulator's for that board). */
  readonly twinOf?: string | undefined;
  /** The rate its serial line was opened at, where the rig named one (USART line time is taken off at it). */
  readonly baudRate?: number | undefined;
  readonly ops: Readonly<Record<string, OperationSummary>>;
}

/** The night's `timing` section from its samples; `about` gives each board's family, identity, ... */
export function summariseTiming(
  samples: Iterable<OperationSample>,
  about: (board: string) => Omit<BoardTimingNight, "board" | "ops"> = () => ({}),
): BoardTimingNight[] {
  const boards = new Map<
    string,
    Map<string, { count: number; units: number; ms: number; min: number; max: number; device: number }>
  >();
  for (const s of samples) {
    let ops = boards.get(s.board);
    if (!ops) {
      ops = new Map();
      boards.set(s.board, ops);
    }
    const o = ops.get(s.op);
    if (!o)
      ops.set(s.op, { count: 1, units: s.units, ms: s.ms, min: s.ms, max: s.ms, device: s.deviceMs ?? 0 });
    else {
      o.count++;
      o.device += s.deviceMs ?? 0;
      o.units += s.units;
      o.ms += s.ms;
      o.min = Math.min(o.min, s.ms);
      o.max = Math.max(o.max, s.ms);
    }
  }
  return [...boards]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([board, ops]) => ({
      board,
      ...about(board),
      ops: Object.fromEntries(
        [...ops]
          .sort(([a], [b]) => a.localeCompare(b))
          .map(([op, o]) => [
            op,
            {
              count: o.count,
              units: round(o.units),
              ms: round(o.ms),
              msPerUnit: round(o.units > 0 ? o.ms / o.units : o.ms),
              minMs: round(o.min),
              maxMs: round(o.max),
              ...(o.device > 0
                ? { deviceMsPerUnit: round(o.units > 0 ? o.device / o.units : o.device) }
                : {}),
            },
          ]),
      ),
    }));
}

const round = (x: number) => Math.round(x * 1000) / 1000;

export function median(xs: readonly number[]): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

/** When drift is flagged: the last `nights` nights' median time per unit above the earlier nights' median by more than `fraction`. */
export interface DriftRule {
  readonly fraction: number;
  readonly nights: number;
  /** Earlier nights needed before anything is judged. */
  readonly minBaseline: number;
}

export const DEFAULT_DRIFT: DriftRule = { fraction: 0.1, nights: 5, minBaseline: 3 };

/** One operation of one board over the nights, as the report shows it. */
export interface OperationTrend {
  readonly board: string;
  readonly op: string;
  /** Time per unit, one point per night the operation ran, oldest first. */
  readonly series: readonly { at: string; msPerUnit: number }[];
  /** This (the last) night's time per unit. */
  readonly now: number;
  /** Median and spread (min–max) of the nights before. */
  readonly historyMedian: number;
  readonly historyMin: number;
  readonly historyMax: number;
  /** (recent median ÷ baseline median) − 1; NaN when there is too little history. */
  readonly change: number;
  readonly drift: boolean;
  /** The emulator profile's figure for the operation, when it has one. */
  readonly emulatorMs?: number | undefined;
  /** This night's waits the device asked for per unit (DFU bwPollTimeout), when it asked. */
  readonly deviceNow?: number | undefined;
}

/** Per board and operation: this night against the board's history, with drift flagged by `rule`. */
export function timingTrends(
  nights: readonly { at: string; timing?: readonly BoardTimingNight[] | undefined }[],
  rule: DriftRule = DEFAULT_DRIFT,
  emulatorMs: (board: BoardTimingNight, op: string) => number | undefined = () => undefined,
): OperationTrend[] {
  const series = new Map<
    string,
    {
      board: BoardTimingNight;
      op: string;
      points: { at: string; msPerUnit: number }[];
      deviceNow?: number | undefined;
    }
  >();
  for (const night of nights)
    for (const board of (Array.isArray(night.timing) ? night.timing : []) as readonly BoardTimingNight[])
      for (const [op, s] of Object.entries(board.ops)) {
        const key = `${board.board}\u0000${op}`;
        let entry = series.get(key);
        if (!entry) {
          entry = { board, op, points: [] };
          series.set(key, entry);
        }
        entry.board = board;
        entry.deviceNow = s.deviceMsPerUnit;
        entry.points.push({ at: night.at, msPerUnit: s.msPerUnit });
      }
  return [...series.values()]
    .sort((a, b) => `${a.board.board} ${a.op}`.localeCompare(`${b.board.board} ${b.op}`))
    .map(({ board, op, points, deviceNow }) => {
      const values = points.map((p) => p.msPerUnit);
      const before = values.slice(0, -1);
      const recent = values.slice(-rule.nights);
      const baseline = values.slice(0, Math.max(0, values.length - rule.nights));
      const change =
        baseline.length >= rule.minBaseline && recent.length === rule.nights
          ? median(recent) / median(baseline) - 1
          : Number.NaN;
      return {
        board: board.board,
        op,
        series: points,
        now: values[values.length - 1] as number,
        historyMedian: median(before),
        historyMin: before.length ? Math.min(...before) : Number.NaN,
        historyMax: before.length ? Math.max(...before) : Number.NaN,
        change,
        drift: change > rule.fraction,
        emulatorMs: emulatorMs(board, op),
        ...(deviceNow === undefined ? {} : { deviceNow }),
      };
    });
}

/** A timing samples file as `hil run` writes it (one JSON line per operation), summarised per board. @throws naming the file and line of bad JSON. */
export async function readTimingSamples(path: string): Promise<BoardTimingNight[]> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw e;
  }
  const samples: OperationSample[] = [];
  const about = new Map<string, Omit<BoardTimingNight, "board" | "ops">>();
  text.split("\n").forEach((line, i) => {
    if (!line.trim()) return;
    let s: OperationSample & {
      family?: string;
      emulated?: boolean;
      identity?: Record<string, string>;
      twinOf?: string;
      baudRate?: number;
    };
    try {
      s = JSON.parse(line);
    } catch (e) {
      throw new Error(`${path}:${i + 1}: not JSON: ${(e as Error).message}`);
    }
    if (typeof s.board !== "string" || typeof s.op !== "string" || !(s.ms >= 0) || !(s.units >= 0))
      throw new Error(`${path}:${i + 1}: expected board, op, units and ms`);
    samples.push({
      board: s.board,
      op: s.op,
      units: s.units,
      ms: s.ms,
      ...(s.deviceMs !== undefined && s.deviceMs >= 0 ? { deviceMs: s.deviceMs } : {}),
    });
    const known = about.get(s.board);
    about.set(s.board, {
      family: s.family ?? known?.family,
      emulated: s.emulated ?? known?.emulated,
      identity: s.identity ?? known?.identity,
      ...((s.twinOf ?? known?.twinOf) ? { twinOf: s.twinOf ?? known?.twinOf } : {}),
      ...((s.baudRate ?? known?.baudRate) ? { baudRate: s.baudRate ?? known?.baudRate } : {}),
    });
  });
  return summariseTiming(samples, (board) => about.get(board) ?? {});
}
