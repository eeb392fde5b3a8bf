/**
 * Board leases whatever the backend: lock files on one host (lease.ts, the default) or etcd
 * for racks on several hosts (etcd-lease.ts). What a run, `hil reserve`, `hil release` and
 * `hil leases` need: acquire with a wait, reserve for a while, release, list.
 */
import { readdir, unlink } from "node:fs/promises";
import { join } from "node:path";
import { type Clock, WallClock } from "../transport/clock.js";
import { SkipScenario } from "./errors.js";
import { EtcdGateway, type EtcdGatewayOptions } from "./etcd-gateway.js";
import {
  describeIdentity,
  type EtcdLeaseSettings,
  holderIdentity,
  listEtcdLeases,
  putIfAbsent,
  releaseEtcdBoard,
  tryEtcdLease,
} from "./etcd-lease.js";
import {
  acquireLease,
  describeHolder,
  formatWait,
  type LeaseRecord,
  leaseDir,
  readLease,
  staleReason,
  tryLease,
} from "./lease.js";

export type LeaseBackendConfig =
  | { readonly backend: "file"; readonly dir?: string | undefined }
  | ({ readonly backend: "etcd" } & EtcdLeaseSettings & EtcdGatewayOptions);

/** A board this process holds. */
export interface HeldBoard {
  readonly board: string;
  /** Aborts, with the reason, when the lease is lost under the holder (etcd); never for lock files. */
  readonly signal: AbortSignal;
  describe(): string;
  release(): Promise<void>;
}

/** Who holds a board, for `hil leases` and skip reasons. */
export interface BoardHolder {
  readonly board: string;
  readonly user: string;
  readonly host: string;
  readonly pid: number;
  readonly since: number;
  /** When the lease runs out unless renewed; undefined for a lock file kept by a heartbeat. */
  readonly until: number | undefined;
  readonly note: string | undefined;
  /** One line: who, where, since when, until when, why. */
  readonly text: string;
}

export interface AcquireOptions {
  /** Longest wait for a held board (default 0). */
  readonly timeoutMs?: number;
  readonly pollMs?: number;
  readonly noticeMs?: number;
  readonly clock?: Clock;
  readonly warn?: (message: string) => void;
}

const gateways = new WeakMap<object, EtcdGateway>();

/** One gateway per config object: its auth token is reused. */
function gatewayOf(config: LeaseBackendConfig & { backend: "etcd" }): EtcdGateway {
  let g = gateways.get(config);
  if (!g) {
    g = new EtcdGateway(config);
    gateways.set(config, g);
  }
  return g;
}

function fileHolder(r: LeaseRecord): BoardHolder {
  return {
    board: r.board,
    user: r.owner,
    host: r.host,
    pid: r.pid,
    since: r.start,
    until: r.until,
    note: r.note,
    text: describeHolder(r),
  };
}

/**
 * Leases `board`, waiting up to `timeoutMs` while someone holds it, saying so once and then
 * every `noticeMs`. @throws {SkipScenario} when the time is up, naming the holder.
 */
export async function acquireBoard(
  config: LeaseBackendConfig,
  board: string,
  opts: AcquireOptions = {},
): Promise<HeldBoard> {
  if (config.backend === "file") {
    const lease = await acquireLease(board, { ...opts, ...(config.dir ? { dir: config.dir } : {}) });
    return {
      board,
      signal: new AbortController().signal,
      describe: () => describeHolder(lease.record),
      release: () => lease.release(),
    };
  }
  const etcd = gatewayOf(config);
  const clock = opts.clock ?? new WallClock();
  const timeoutMs = opts.timeoutMs ?? 0;
  const warn = opts.warn ?? ((m: string) => console.warn(m));
  const noticeMs = opts.noticeMs ?? 60_000;
  const deadline = clock.now() + timeoutMs;
  let nextNotice: number | undefined;
  for (;;) {
    const got = await tryEtcdLease(etcd, config, board);
    if ("lease" in got) return got.lease;
    const held = describeIdentity(got.holder);
    const left = deadline - clock.now();
    if (left <= 0)
      throw new SkipScenario(`board ${board} is leased (waited ${timeoutMs} ms): ${board} by ${held}`);
    if (nextNotice === undefined) {
      warn(
        `hil: board ${board} is leased: ${board} by ${held}; waiting up to ${formatWait(timeoutMs)} for it`,
      );
      nextNotice = clock.now() + noticeMs;
    } else if (clock.now() >= nextNotice) {
      warn(`hil: still waiting for board ${board} (leased: ${board} by ${held}); ${formatWait(left)} left`);
      nextNotice += noticeMs;
    }
    await clock.sleep(Math.min(opts.pollMs ?? 500, left));
  }
}

/** One attempt, no wait: the board, or who holds it (one line). */
export async function tryBoard(
  config: LeaseBackendConfig,
  board: string,
): Promise<{ lease: HeldBoard } | { holder: string }> {
  try {
    return { lease: await acquireBoard(config, board, { timeoutMs: 0, warn: () => undefined }) };
  } catch (e) {
    if (!(e instanceof SkipScenario)) throw e;
    return { holder: e.message.replace(/^.*?: \S+ by /, "") };
  }
}

/**
 * Reserves `board` for `forMs` (`hil reserve`): held after this process ends, until then or
 * `hil release`. The reservation, or who holds the board.
 */
export async function reserveBoard(
  config: LeaseBackendConfig,
  board: string,
  forMs: number,
  note?: string,
): Promise<{ reserved: BoardHolder } | { holder: BoardHolder }> {
  if (config.backend === "file") {
    const until = Date.now() + forMs;
    const owner = process.env.USER || "unknown";
    const got = await tryLease(board, {
      ...(config.dir ? { dir: config.dir } : {}),
      owner,
      until,
      ...(note === undefined ? {} : { note }),
    });
    if ("holder" in got) return { holder: fileHolder(got.holder) };
    got.lease.detach();
    return { reserved: fileHolder(got.lease.record) };
  }
  const identity = holderIdentity(board, forMs, note);
  const got = await putIfAbsent(gatewayOf(config), config, identity, Math.max(1, Math.ceil(forMs / 1000)));
  if ("holder" in got) return { holder: etcdHolder(got.holder) };
  return { reserved: etcdHolder(identity) };
}

function etcdHolder(h: ReturnType<typeof holderIdentity>): BoardHolder {
  return {
    board: h.board,
    user: h.user,
    host: h.host,
    pid: h.pid,
    since: h.since,
    until: h.until,
    note: h.note,
    text: describeIdentity(h),
  };
}

/** Ends the lease or reservation of `board`, whoever holds it: who held it, or undefined when free. */
export async function releaseBoard(
  config: LeaseBackendConfig,
  board: string,
): Promise<BoardHolder | undefined> {
  if (config.backend === "file") {
    const path = join(config.dir ?? leaseDir(), `${board}.lease`);
    const record = await readLease(path);
    if (!record) return undefined;
    await unlink(path).catch(() => undefined);
    return fileHolder(record);
  }
  const holder = await releaseEtcdBoard(gatewayOf(config), config, board);
  return holder && etcdHolder(holder);
}

/** Every live lease and reservation, by board. */
export async function listBoardLeases(config: LeaseBackendConfig): Promise<BoardHolder[]> {
  if (config.backend === "file") {
    const dir = config.dir ?? leaseDir();
    const names = await readdir(dir).catch(() => [] as string[]);
    const records = await Promise.all(
      names.filter((n) => n.endsWith(".lease")).map((n) => readLease(join(dir, n))),
    );
    return records
      .filter((r): r is LeaseRecord => r !== undefined && staleReason(r, 60_000) === undefined)
      .map(fileHolder)
      .sort((a, b) => a.board.localeCompare(b.board));
  }
  const held = await listEtcdLeases(gatewayOf(config), config);
  return held.map(etcdHolder).sort((a, b) => a.board.localeCompare(b.board));
}

/** Where leases live, for messages: the lease directory or the etcd endpoints (never credentials). */
export function describeBackend(config: LeaseBackendConfig): string {
  return config.backend === "file"
    ? `lock files in ${config.dir ?? leaseDir()}`
    : `etcd ${config.endpoints.join(", ")} under ${config.prefix}`;
}
