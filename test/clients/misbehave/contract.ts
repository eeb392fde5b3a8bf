/**
 * The three promises every host client keeps against a misbehaving device
 * (harness/devices/misbehave.ts), checked per operation on virtual time:
 * - it ends: every operation settles, within a budget its own timeouts give;
 * - it fails typed: a ClientError with its transcript, of a category that is not the
 *   harness's, with no TypeError/RangeError (or other untyped error) underneath;
 * - it writes only where asked: nothing outside the requested range of flash changed.
 * The nightly knob HIL_MISBEHAVE_EXCHANGES=N runs until each client saw N exchanges.
 */
import fc from "fast-check";
import { ClientError } from "../../../harness/clients/errors.js";
import { MAX_DELAY_MS } from "../../../harness/devices/misbehave.js";
import { categoryOfError } from "../../../harness/report/failure-categories.mjs";
import type { Flash } from "../../../harness/sim/flash.js";
import type { VirtualClock } from "../../../harness/sim/virtual-clock.js";
import type { Transcript } from "../../../harness/transport/transcript.js";

/** Exchanges each client must see in one run of its property (0: the small `npm test` count). */
export const NIGHTLY_EXCHANGES = Number(process.env.HIL_MISBEHAVE_EXCHANGES ?? 0) || 0;

/** An operation that has not settled after this much virtual time hangs. */
const HANG_MS = 24 * 3600_000;

export type Outcome<T> =
  | { kind: "ok"; value: T; elapsedMs: number; exchanges: number }
  | { kind: "error"; error: unknown; elapsedMs: number; exchanges: number }
  | { kind: "hung"; elapsedMs: number; exchanges: number };

/** Runs `work` on `clock` until it settles or a day of virtual time has gone by. */
export async function settle<T>(
  clock: VirtualClock,
  transcript: Transcript,
  work: () => Promise<T>,
): Promise<Outcome<T>> {
  const t0 = clock.now();
  const e0 = transcript.entries.length;
  const stop = new AbortController();
  const hung = clock.sleep(HANG_MS, stop.signal).then(() => "hung" as const);
  let done: Promise<{ kind: "ok"; value: T } | { kind: "error"; error: unknown }>;
  try {
    done = work().then(
      (value) => ({ kind: "ok" as const, value }),
      (error: unknown) => ({ kind: "error" as const, error }),
    );
  } catch (error) {
    done = Promise.resolve({ kind: "error" as const, error });
  }
  const r = await Promise.race([done, hung]);
  stop.abort();
  const elapsedMs = clock.now() - t0;
  const exchanges = requests(transcript, e0);
  return r === "hung" ? { kind: "hung", elapsedMs, exchanges } : { ...r, elapsedMs, exchanges };
}

/**
 * What is wrong with how an operation ended, or undefined when it kept the contract.
 * `budgetMs(exchanges)` is the longest the operation may take given how many exchanges it
 * made: each exchange's own timeout (a late reply waits at most that long) plus the device
 * work the operation asked for.
 */
export function breach(
  outcome: Outcome<unknown>,
  budgetMs: (exchanges: number) => number,
): string | undefined {
  if (outcome.kind === "hung") return `hung: not settled after ${outcome.elapsedMs} ms of device time`;
  const budget = budgetMs(outcome.exchanges);
  if (outcome.elapsedMs > budget)
    return `took ${outcome.elapsedMs} ms for ${outcome.exchanges} exchanges (budget ${budget} ms)`;
  if (outcome.kind === "ok") return undefined;
  return untyped(outcome.error);
}

/**
 * Exchanges in `transcript` from entry `from` on: what the host sent (a control transfer,
 * a serial write), each of which the device answers or fails to.
 */
export function requests(transcript: Transcript, from = 0): number {
  let n = 0;
  const entries = transcript.entries;
  for (let i = from; i < entries.length; i++) {
    const dir = entries[i]!.dir;
    if (dir === "tx" || dir === "ctrl-out" || dir === "ctrl-in") n++;
  }
  return n;
}

/** Why `error` is not a typed client error, or undefined. */
export function untyped(error: unknown): string | undefined {
  const what = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  if (!(error instanceof ClientError)) return `not a ClientError: ${what}`;
  if (!error.transcript) return `no transcript: ${what}`;
  const category = categoryOfError(error);
  if (category === "harness") return `category "${category}": ${what}`;
  for (let c: unknown = error.cause; c instanceof Error; c = c.cause)
    if (
      c instanceof TypeError ||
      c instanceof RangeError ||
      c instanceof ReferenceError ||
      c instanceof SyntaxError
    )
      return `caused by ${c.name}: ${c.message} (${what})`;
  return undefined;
}

/** The device may delay a reply beyond any timeout; the client's wait ends at its timeout. */
export function perExchange(timeoutMs: number): number {
  return Math.min(timeoutMs, MAX_DELAY_MS) + timeoutMs;
}

/** The first address outside `allowed` ([start, end) ranges) whose byte changed, if any. */
export function changedOutside(
  flash: Flash,
  before: Uint8Array,
  base: number,
  allowed: readonly (readonly [number, number])[],
): number | undefined {
  const after = flash.peek(base, before.length);
  for (let i = 0; i < before.length; i++) {
    if (after[i] === before[i]) continue;
    const a = base + i;
    if (!allowed.some(([s, e]) => a >= s && a < e)) return a;
  }
  return undefined;
}

/** What one session found, and how many exchanges it made. */
export interface RunResult {
  problems: string[];
  exchanges: number;
}

/**
 * Checks `property` in rounds of `runs` (fast-check seeds `seed`, `seed + 1`, ...): one round
 * in `npm test`; with the nightly knob, rounds until `exchanges()` reaches it. Returns the
 * number of rounds.
 */
export async function rounds(
  runs: number,
  exchanges: () => number,
  check: (opts: { numRuns: number; seed: number }) => Promise<void>,
): Promise<number> {
  const seed = Number(process.env.HIL_MISBEHAVE_SEED ?? 18);
  let round = 0;
  do await check({ numRuns: runs, seed: seed + round++ });
  while (NIGHTLY_EXCHANGES > 0 && exchanges() < NIGHTLY_EXCHANGES);
  return round;
}

/**
 * One client's misbehave property: `runs` sessions a round of random seed, misbehave rate
 * and 1..`maxOps` operations, each run by `run`; a session with a problem fails with its
 * seed and rate. With the nightly knob it prints the exchanges seen, labelled `label`.
 */
export async function checkMisbehaving<O>(spec: {
  label: string;
  runs: number;
  op: fc.Arbitrary<O>;
  maxOps: number;
  run: (seed: number, rate: number, ops: readonly O[]) => Promise<RunResult>;
}): Promise<void> {
  let exchanges = 0;
  await rounds(
    spec.runs,
    () => exchanges,
    (opts) =>
      fc.assert(
        fc.asyncProperty(
          fc.integer({ min: 0, max: 0x7fff_ffff }),
          fc.constantFrom(0.05, 0.2, 0.5),
          fc.array(spec.op, { minLength: 1, maxLength: spec.maxOps }),
          async (seed, rate, ops) => {
            const r = await spec.run(seed, rate, ops);
            exchanges += r.exchanges;
            if (r.problems.length > 0) throw new Error(`seed ${seed} rate ${rate}: ${r.problems.join("; ")}`);
          },
        ),
        opts,
      ),
  );
  if (NIGHTLY_EXCHANGES > 0) console.log(`      ${spec.label}: ${exchanges} exchanges`);
}
