/**
 * Board leases: a lab board is leased before use and released after, so two `hil run`
 * processes, or Mocha `--parallel` workers, never drive the same board.
 *
 * A lease is a file per board in the lease directory (HIL_LEASE_DIR, default
 * `<tmpdir>/hil-leases`; put it on a disk every process of the rack host sees):
 * `<board id>.lease`, JSON `{ board, owner, token, pid, host, start, heartbeat }`, created
 * with O_EXCL so exactly one process wins. The holder rewrites `heartbeat` every
 * `heartbeatMs`. A lease is stale, and is broken with a warning, when its process is gone
 * (same host, pid not running) or its heartbeat is older than `staleMs` (a crashed host, a
 * frozen process). Breaking happens under a second O_EXCL lock and re-checks the file, so
 * two waiters never both break it and never remove a fresh lease.
 *
 * Waiting for a leased board polls on the Clock up to a timeout, saying once who holds it
 * and how long it will wait, then again every `noticeMs` (a run that waits must not look
 * hung); when the time is up the scenario is skipped with the reason (who holds it since
 * when), never failed.
 */
import { randomUUID } from "node:crypto";
import { readFileSync, unlinkSync } from "node:fs";
import { mkdir, open, readFile, rename, stat, unlink, writeFile } from "node:fs/promises";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { type Clock, WallClock } from "../transport/clock.js";
import { SkipScenario } from "./errors.js";

export interface LeaseRecord {
  readonly board: string;
  /** Who holds it, for people: the program's name ("hil.js") by default; pid and host are fields of their own. */
  readonly owner: string;
  /** Unique per acquisition: a holder only ever touches a file carrying its own token. */
  readonly token: string;
  readonly pid: number;
  readonly host: string;
  /** ms since the epoch. */
  readonly start: number;
  readonly heartbeat: number;
  /** A reservation (`hil reserve --for`): held until then, ms since the epoch, whatever its pid. */
  readonly until?: number;
  /** Why it is held, for people (`hil reserve --note`). */
  readonly note?: string;
}

export interface LeaseOptions {
  /** Default HIL_LEASE_DIR, else `<tmpdir>/hil-leases`. */
  readonly dir?: string;
  /** Longest wait for a leased board (default 0: do not wait). */
  readonly timeoutMs?: number;
  /** Poll interval while waiting (default 200 ms). */
  readonly pollMs?: number;
  /** Heartbeat period (default 5 s). */
  readonly heartbeatMs?: number;
  /** Heartbeat age after which a lease is stale (default 60 s). */
  readonly staleMs?: number;
  readonly owner?: string;
  /** Times waits and the heartbeat (default a WallClock); lease timestamps are always wall time. */
  readonly clock?: Clock;
  /** While waiting, how often to say so again after the first notice (default 60 s). */
  readonly noticeMs?: number;
  /** Where "broke a stale lease" warnings and "waiting for" notices go (default console.warn). */
  readonly warn?: (message: string) => void;
  /** A reservation's end (ms since the epoch): the lease stays live until then, not while a process lives. */
  readonly until?: number;
  readonly note?: string;
}

export function leaseDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.HIL_LEASE_DIR || join(tmpdir(), "hil-leases");
}

const DEFAULTS = { timeoutMs: 0, pollMs: 200, heartbeatMs: 5000, staleMs: 60_000, noticeMs: 60_000 };

/** A held lease. `release()` is idempotent. */
export class Lease {
  #released = false;
  readonly #stopHeartbeat = new AbortController();

  constructor(
    readonly record: LeaseRecord,
    readonly path: string,
    private readonly clock: Clock,
    heartbeatMs: number,
  ) {
    held.set(path, record.token);
    void this.#heartbeat(heartbeatMs);
  }

  get released(): boolean {
    return this.#released;
  }

  async release(): Promise<void> {
    if (this.#released) return;
    this.#released = true;
    this.#stopHeartbeat.abort();
    held.delete(this.path);
    const now = await readLease(this.path);
    if (now?.token === this.record.token) await unlink(this.path).catch(() => {});
  }

  /**
   * Leaves the lease file in place when this process goes (a reservation, live until its
   * `until`): no heartbeat, no removal at exit.
   */
  detach(): void {
    this.#released = true;
    this.#stopHeartbeat.abort();
    held.delete(this.path);
  }

  async #heartbeat(periodMs: number): Promise<void> {
    const signal = this.#stopHeartbeat.signal;
    for (;;) {
      await this.clock.sleep(periodMs, signal);
      if (signal.aborted) return;
      const now = await readLease(this.path);
      // Broken by someone who judged us stale: never overwrite their lease.
      if (now?.token !== this.record.token) return;
      const next: LeaseRecord = { ...this.record, heartbeat: Date.now() };
      const tmp = `${this.path}.${process.pid}.tmp`;
      await writeFile(tmp, JSON.stringify(next));
      await rename(tmp, this.path).catch(() => {});
    }
  }
}

/** Leases this process holds: removed if the process exits without releasing them. */
const held = new Map<string, string>();
process.once("exit", () => {
  for (const [path, token] of held) {
    try {
      // Only our own lease: if it was broken and taken by another run meanwhile, leave theirs.
      if ((JSON.parse(readFileSync(path, "utf8")) as LeaseRecord).token === token) unlinkSync(path);
    } catch {
      // already gone, or not ours to judge
    }
  }
});

/** Reads a lease file; undefined when absent or not (yet) complete JSON. */
export async function readLease(path: string): Promise<LeaseRecord | undefined> {
  try {
    return JSON.parse(await readFile(path, "utf8")) as LeaseRecord;
  } catch {
    return undefined;
  }
}

/** Why `record` is stale, or undefined while it is live. */
export function staleReason(record: LeaseRecord, staleMs: number, now = Date.now()): string | undefined {
  if (record.until !== undefined)
    return now > record.until
      ? `its reservation ended at ${new Date(record.until).toISOString()}`
      : undefined;
  if (record.host === hostname() && !pidAlive(record.pid)) return `its process ${record.pid} is gone`;
  const age = now - record.heartbeat;
  if (age > staleMs)
    return `its last heartbeat is ${Math.round(age / 1000)} s old (stale after ${staleMs / 1000} s)`;
  return undefined;
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** `hil.js on rack-1 (pid 4711) since 2026-...`: the pid once, also for leases written with it in `owner`. */
export function describeHolder(record: LeaseRecord): string {
  const owner = record.owner.replace(` (pid ${record.pid})`, "");
  const until = record.until === undefined ? "" : ` until ${new Date(record.until).toISOString()}`;
  const note = record.note ? `: ${record.note}` : "";
  return `${owner} on ${record.host} (pid ${record.pid}) since ${new Date(record.start).toISOString()}${until}${note}`;
}

/**
 * One attempt: the lease of `boardId`, or the live record of whoever holds it. Breaks a
 * stale lease (with a warning) and tries again.
 */
export async function tryLease(
  boardId: string,
  opts: LeaseOptions = {},
): Promise<{ lease: Lease } | { holder: LeaseRecord }> {
  const dir = opts.dir ?? leaseDir();
  const clock = opts.clock ?? new WallClock();
  const staleMs = opts.staleMs ?? DEFAULTS.staleMs;
  const warn = opts.warn ?? ((m: string) => console.warn(m));
  await mkdir(dir, { recursive: true });
  const path = join(dir, `${boardId}.lease`);
  for (let attempt = 0; attempt < 5; attempt++) {
    const now = Date.now();
    const record: LeaseRecord = {
      board: boardId,
      owner: opts.owner ?? process.argv[1]?.split("/").pop() ?? "node",
      token: randomUUID(),
      pid: process.pid,
      host: hostname(),
      start: now,
      heartbeat: now,
      ...(opts.until === undefined ? {} : { until: opts.until }),
      ...(opts.note === undefined ? {} : { note: opts.note }),
    };
    if (await createExclusive(path, JSON.stringify(record)))
      return { lease: new Lease(record, path, clock, opts.heartbeatMs ?? DEFAULTS.heartbeatMs) };
    const holder = await readLease(path);
    if (!holder) {
      // Being written right now, or garbage left by a crash mid-write: stale once old enough.
      const age = await stat(path).then(
        (s) => Date.now() - s.mtimeMs,
        () => 0,
      );
      if (age > staleMs)
        await breakLease(path, undefined, `it is unreadable and ${Math.round(age / 1000)} s old`, warn);
      else await clock.sleep(20);
      continue;
    }
    const why = staleReason(holder, staleMs);
    if (!why) return { holder };
    await breakLease(path, holder, why, warn);
  }
  const holder = await readLease(path);
  if (holder) return { holder };
  throw new Error(`lease ${path}: could not create it after breaking stale leases`);
}

async function createExclusive(path: string, text: string): Promise<boolean> {
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(path, "wx");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw e;
  }
  try {
    await handle.writeFile(text);
  } finally {
    await handle.close();
  }
  return true;
}

/** Removes a stale lease under a break lock, after checking it is still the one judged stale. */
async function breakLease(
  path: string,
  stale: LeaseRecord | undefined,
  why: string,
  warn: (message: string) => void,
): Promise<void> {
  const lock = `${path}.break`;
  // A break lock left by a process that died while breaking is itself stale after a while.
  const lockAge = await stat(lock).then(
    (s) => Date.now() - s.mtimeMs,
    () => undefined,
  );
  if (lockAge !== undefined && lockAge > 10_000) await unlink(lock).catch(() => {});
  if (!(await createExclusive(lock, String(process.pid)))) return; // someone else is breaking it
  try {
    const now = await readLease(path);
    if (stale ? now?.token !== stale.token : now !== undefined) return; // replaced meanwhile
    await unlink(path).catch(() => {});
    warn(
      `hil: broke the stale lease of board ${stale?.board ?? path}${stale ? ` held by ${describeHolder(stale)}` : ""}: ${why}`,
    );
  } finally {
    await unlink(lock).catch(() => {});
  }
}

/**
 * Leases `boardId`, waiting up to `timeoutMs` while another live process holds it.
 * @throws {SkipScenario} when the time is up, naming the holder.
 */
export async function acquireLease(boardId: string, opts: LeaseOptions = {}): Promise<Lease> {
  return acquireAnyLease([boardId], opts);
}

/**
 * Leases the first free board of `boardIds` (in order), waiting up to `timeoutMs` for one.
 * @throws {SkipScenario} when all stay leased, naming each holder.
 */
export async function acquireAnyLease(boardIds: readonly string[], opts: LeaseOptions = {}): Promise<Lease> {
  if (boardIds.length === 0) throw new RangeError("acquireAnyLease: no boards");
  const clock = opts.clock ?? new WallClock();
  const timeoutMs = opts.timeoutMs ?? DEFAULTS.timeoutMs;
  const deadline = clock.now() + timeoutMs;
  const warn = opts.warn ?? ((m: string) => console.warn(m));
  const noticeMs = opts.noticeMs ?? DEFAULTS.noticeMs;
  const names = boardIds.length === 1 ? `board ${boardIds[0]}` : `boards ${boardIds.join(", ")}`;
  const what = `${names} ${boardIds.length === 1 ? "is" : "are all"}`;
  let nextNotice: number | undefined;
  for (;;) {
    const holders: LeaseRecord[] = [];
    for (const id of boardIds) {
      const got = await tryLease(id, { ...opts, clock });
      if ("lease" in got) return got.lease;
      holders.push(got.holder);
    }
    const held = holders.map((h) => `${h.board} by ${describeHolder(h)}`).join("; ");
    const left = deadline - clock.now();
    if (left <= 0) throw new SkipScenario(`${what} leased (waited ${timeoutMs} ms): ${held}`);
    // Said once when the wait starts, then every noticeMs: a waiting run must not look hung.
    if (nextNotice === undefined) {
      warn(`hil: ${what} leased: ${held}; waiting up to ${formatWait(timeoutMs)} for it`);
      nextNotice = clock.now() + noticeMs;
    } else if (clock.now() >= nextNotice) {
      warn(`hil: still waiting for ${names} (leased: ${held}); ${formatWait(left)} left`);
      nextNotice += noticeMs;
    }
    await clock.sleep(Math.min(opts.pollMs ?? DEFAULTS.pollMs, left));
  }
}

/** `300 ms`, `45 s`, `10 min`: a wait as a person reads it. */
export function formatWait(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 120_000) return `${Math.round(ms / 1000)} s`;
  return `${Math.round(ms / 60_000)} min`;
}
