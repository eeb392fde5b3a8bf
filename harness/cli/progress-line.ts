/**
 * The progress line of a long `hil run` on a terminal: scenarios done of all, the running
 * scenario with its board, and the client operations under way with their percent
 * ("[37/412] stm32-dfu: power interruption › l432-0 (stm32l432) › a clean cut… · download
 * 262144 bytes › download 128 blocks 45%"). One line on stderr, redrawn a few times a
 * second and cleared before the spec reporter prints, so the log stays as it would be
 * without it. Nothing at all when stderr is not a terminal (CI logs, pipes).
 */
import type { EventEmitter } from "node:events";
import { type OpenOperation, openOperations } from "../clients/operation.js";

/** What the line needs of a terminal stream. */
export interface ProgressStream {
  isTTY?: boolean;
  columns?: number;
  write(text: string): unknown;
}

/** What the line needs of a Mocha runner: its events and the number of tests. */
export interface ProgressRunner extends EventEmitter {
  total?: number;
}

interface TestLike {
  title: string;
  titlePath?: () => string[];
}

const CLEAR = "\r\x1b[2K";
/** Events after which the spec reporter writes a line: ours must be gone first. */
const REPORTER_WRITES = ["suite", "suite end", "pass", "fail", "pending", "end"];

export function operationsText(ops: readonly OpenOperation[]): string {
  return ops
    .map((o) => (o.total > 0 ? `${o.title} ${Math.floor((100 * o.done) / o.total)}%` : o.title))
    .join(" › ");
}

/** The line for `done` of `total` scenarios, the running test's title path and the open operations. */
export function progressText(
  done: number,
  total: number | undefined,
  titlePath: readonly string[],
  ops: readonly OpenOperation[],
  columns = 80,
): string {
  const count = total ? `[${done}/${total}]` : `[${done}]`;
  const operations = operationsText(ops);
  const tail = operations ? ` · ${operations}` : "";
  // One terminal row (a wrapped line could not be cleared with \r). The count, the operation
  // under way and its percent are what the line is for: the title gives way first, from its
  // middle (suite and test name ends stay readable), then the outer operations.
  const room = columns - 1;
  const title = titlePath.join(" › ");
  const fixed = count.length + tail.length;
  if (fixed + 1 + title.length <= room) return [count, title].filter(Boolean).join(" ") + tail;
  if (room - fixed - 1 >= MIN_TITLE) return `${count} ${middleCut(title, room - fixed - 1)}${tail}`;
  // Not even a short title fits: count and operations, the outermost operations cut first.
  return `${count} ${startCut(operations, room - count.length - 1)}`.slice(0, room);
}

/** Shortest title worth showing (fewer characters than this: the title is left out). */
const MIN_TITLE = 12;

/** `text` in at most `n` characters, its middle replaced by "…". */
export function middleCut(text: string, n: number): string {
  if (text.length <= n) return text;
  if (n < 2) return "…".slice(0, n);
  const head = Math.ceil((n - 1) / 2);
  return `${text.slice(0, head)}…${text.slice(text.length - (n - 1 - head))}`;
}

/** `text` in at most `n` characters, its start replaced by "…" (the end is kept). */
function startCut(text: string, n: number): string {
  if (text.length <= n) return text;
  return n < 2 ? text.slice(text.length - n) : `…${text.slice(text.length - (n - 1))}`;
}

/**
 * Shows the progress line for `runner` on `stream` when it is a terminal and `CI` is not
 * set; returns a function that stops it (also called at the runner's end).
 */
export function attachProgressLine(
  runner: ProgressRunner,
  stream: ProgressStream = process.stderr,
  opts: { intervalMs?: number; env?: NodeJS.ProcessEnv } = {},
): () => void {
  const env = opts.env ?? process.env;
  if (!stream.isTTY || env.CI) return () => {};
  let done = 0;
  let current: string[] = [];
  let shown = false;
  const clear = () => {
    if (shown) stream.write(CLEAR);
    shown = false;
  };
  const draw = () => {
    const text = progressText(done, runner.total, current, openOperations(), stream.columns ?? 80);
    stream.write(`${CLEAR}${text}`);
    shown = true;
  };
  for (const event of REPORTER_WRITES) runner.prependListener(event, clear);
  runner.on("test", (test: TestLike) => {
    current = test.titlePath?.() ?? [test.title];
  });
  runner.on("test end", () => {
    done++;
  });
  const timer = setInterval(draw, opts.intervalMs ?? 250);
  timer.unref();
  const stop = () => {
    clearInterval(timer);
    clear();
  };
  runner.once("end", stop);
  return stop;
}
