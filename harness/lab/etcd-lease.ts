/**
 * Board leases in etcd, for racks on several hosts: the key `<prefix>boards/<board>` is put
 * only if absent (a transaction comparing its create_revision with 0), attached to an etcd
 * lease with a TTL, and its value is who holds the board (user, host, pid, run, note, since,
 * until). A run keeps its lease alive; when the holder crashes, etcd drops the key once the
 * TTL runs out: nobody guesses from pids or clocks. A reservation (`hil reserve --for 2h`)
 * is a lease whose TTL is the reservation, with no keepalive.
 *
 * Fencing: the holder's lease is known alive only up to the last keepalive etcd answered plus
 * the TTL. When keepalives fail, the lease's `signal` aborts with a {@link LeaseLostError}
 * at the latest a third of the TTL before that point (at once when etcd says the lease is
 * gone), so the board's links close while no other host can have it yet.
 */

import { randomUUID } from "node:crypto";
import { hostname, userInfo } from "node:os";
import { InfrastructureError } from "../seams/errors.js";
import { b64, type EtcdGateway } from "./etcd-gateway.js";

export interface EtcdLeaseSettings {
  /** Keys live under `<prefix>boards/`. */
  readonly prefix: string;
  /** Lease TTL of a run's board lease, in seconds. */
  readonly ttlS: number;
}

/** Who holds a board, as the key's value says (JSON). */
export interface HolderIdentity {
  readonly board: string;
  readonly user: string;
  readonly host: string;
  readonly pid: number;
  /** The run: HIL_RUN_ID, else one made up per process. */
  readonly run: string;
  readonly note?: string | undefined;
  /** ms since the epoch. */
  readonly since: number;
  /** ms since the epoch: when the lease runs out unless kept alive (a reservation's end). */
  readonly until: number;
}

/** The board's lease ended under its holder: the holder must stop driving the board. */
export class LeaseLostError extends InfrastructureError {
  constructor(
    readonly board: string,
    readonly lease: string,
    why: string,
  ) {
    super(`lost the lease of board ${board} (etcd lease ${lease}): ${why}; stopped driving the board`, {
      source: "etcd lease",
    });
    this.name = "LeaseLostError";
  }
}

const RUN_ID = process.env.HIL_RUN_ID || randomUUID().slice(0, 8);

/** The identity this process writes as holder. */
export function holderIdentity(board: string, ttlMs: number, note?: string): HolderIdentity {
  const now = Date.now();
  const user = process.env.USER || safeUser();
  return {
    board,
    user,
    host: hostname(),
    pid: process.pid,
    run: RUN_ID,
    note,
    since: now,
    until: now + ttlMs,
  };
}

function safeUser(): string {
  try {
    return userInfo().username;
  } catch {
    return "unknown";
  }
}

/** `alice on rack-1 (pid 4711, run 1a2b3c4d) since ... until ...: note`. */
export function describeIdentity(h: HolderIdentity): string {
  const note = h.note ? `: ${h.note}` : "";
  return `${h.user} on ${h.host} (pid ${h.pid}, run ${h.run}) since ${iso(h.since)} until ${iso(h.until)}${note}`;
}

const iso = (ms: number) => (Number.isFinite(ms) ? new Date(ms).toISOString() : "?");

export function boardKey(prefix: string, board: string): string {
  return `${prefix}boards/${board}`;
}

/** The identity in a key's value; a value someone else wrote is kept as the note. */
export function parseIdentity(board: string, value: string): HolderIdentity {
  try {
    const v = JSON.parse(value) as Partial<HolderIdentity>;
    if (typeof v.user === "string" && typeof v.host === "string")
      return {
        board,
        user: v.user,
        host: v.host,
        pid: Number(v.pid),
        run: String(v.run),
        note: v.note,
        since: Number(v.since),
        until: Number(v.until),
      };
  } catch {
    // not ours
  }
  return { board, user: "?", host: "?", pid: 0, run: "?", note: value, since: Number.NaN, until: Number.NaN };
}

interface TxnAnswer {
  succeeded?: boolean;
  responses?: { response_range?: { kvs?: { value?: string; lease?: string }[] } }[];
}

/**
 * Puts `identity` under the board's key if nobody holds it, with a fresh etcd lease of
 * `ttlS` seconds. The lease id, or the holder (the fresh lease is revoked again).
 */
export async function putIfAbsent(
  etcd: EtcdGateway,
  settings: EtcdLeaseSettings,
  identity: HolderIdentity,
  ttlS: number,
): Promise<{ lease: string } | { holder: HolderIdentity }> {
  const grant = await etcd.call<{ ID?: string }>("lease/grant", { TTL: String(ttlS) });
  const lease = grant.ID;
  if (lease === undefined) throw new InfrastructureError("etcd lease/grant: no lease id in the answer");
  const key = b64(boardKey(settings.prefix, identity.board));
  let answer: TxnAnswer;
  try {
    answer = await etcd.call<TxnAnswer>("kv/txn", {
      compare: [{ key, target: "CREATE", result: "EQUAL", create_revision: "0" }],
      success: [{ request_put: { key, value: b64(JSON.stringify(identity)), lease } }],
      failure: [{ request_range: { key } }],
    });
  } catch (e) {
    await revokeQuietly(etcd, lease);
    throw e;
  }
  if (answer.succeeded) return { lease };
  await revokeQuietly(etcd, lease);
  const kv = answer.responses?.[0]?.response_range?.kvs?.[0];
  const value = kv?.value === undefined ? "" : Buffer.from(kv.value, "base64").toString("utf8");
  return { holder: parseIdentity(identity.board, value) };
}

async function revokeQuietly(etcd: EtcdGateway, lease: string): Promise<void> {
  await etcd.call("lease/revoke", { ID: lease }).catch(() => undefined);
}

/** A run's lease of a board in etcd, kept alive until released or lost. */
export class EtcdBoardLease {
  readonly #abort = new AbortController();
  #released = false;
  #keepalive: NodeJS.Timeout | undefined;
  #fence: NodeJS.Timeout | undefined;

  constructor(
    private readonly etcd: EtcdGateway,
    readonly holder: HolderIdentity,
    readonly lease: string,
    readonly ttlS: number,
    /** When the grant was asked: the lease is known alive until then plus the TTL. */
    grantedAt: number,
  ) {
    this.#armFence(grantedAt);
    this.#schedule(this.#periodMs());
  }

  get board(): string {
    return this.holder.board;
  }

  /** Aborted, with a {@link LeaseLostError} as reason, when the lease is lost. */
  get signal(): AbortSignal {
    return this.#abort.signal;
  }

  get released(): boolean {
    return this.#released;
  }

  describe(): string {
    return describeIdentity(this.holder);
  }

  async release(): Promise<void> {
    if (this.#released) return;
    this.#released = true;
    this.#stop();
    // Also after a loss: etcd may still have it (it was unreachable); only ever our own lease id.
    await revokeQuietly(this.etcd, this.lease);
  }

  #periodMs(): number {
    return (this.ttlS * 1000) / 3;
  }

  /** Stop driving the board a third of the TTL before the lease can have run out. */
  #armFence(aliveSince: number): void {
    clearTimeout(this.#fence);
    const fenceAt = aliveSince + (this.ttlS * 1000 * 2) / 3;
    this.#fence = setTimeout(
      () =>
        this.#lose(
          `no keepalive answered for ${Math.round((Date.now() - aliveSince) / 1000)} s of its ${this.ttlS} s TTL`,
        ),
      Math.max(0, fenceAt - Date.now()),
    );
    this.#fence.unref();
  }

  #schedule(ms: number): void {
    this.#keepalive = setTimeout(() => void this.#keepAlive(), ms);
    this.#keepalive.unref();
  }

  async #keepAlive(): Promise<void> {
    if (this.#released || this.#abort.signal.aborted) return;
    const askedAt = Date.now();
    try {
      const answer = await this.etcd.call<{ TTL?: string }>("lease/keepalive", { ID: this.lease });
      if (this.#released || this.#abort.signal.aborted) return;
      if (!(Number(answer.TTL ?? 0) > 0)) {
        this.#lose("etcd no longer has it (expired or revoked)");
        return;
      }
      this.#armFence(askedAt);
      this.#schedule(this.#periodMs());
    } catch {
      // etcd unreachable: try again soon; the fence timer decides when it is too late.
      this.#schedule(Math.min(this.#periodMs(), 1000));
    }
  }

  #lose(why: string): void {
    if (this.#released || this.#abort.signal.aborted) return;
    this.#stop();
    this.#abort.abort(new LeaseLostError(this.board, this.lease, why));
  }

  #stop(): void {
    clearTimeout(this.#keepalive);
    clearTimeout(this.#fence);
  }
}

/** One attempt to lease `board` for this run: the kept-alive lease, or who holds it. */
export async function tryEtcdLease(
  etcd: EtcdGateway,
  settings: EtcdLeaseSettings,
  board: string,
  note?: string,
): Promise<{ lease: EtcdBoardLease } | { holder: HolderIdentity }> {
  const identity = holderIdentity(board, settings.ttlS * 1000, note);
  const askedAt = Date.now();
  const got = await putIfAbsent(etcd, settings, identity, settings.ttlS);
  if ("holder" in got) return got;
  return { lease: new EtcdBoardLease(etcd, identity, got.lease, settings.ttlS, askedAt) };
}

/** Every board held under the prefix, with `until` from the lease's time to live. */
export async function listEtcdLeases(
  etcd: EtcdGateway,
  settings: EtcdLeaseSettings,
): Promise<HolderIdentity[]> {
  const under = `${settings.prefix}boards/`;
  const kvs = await etcd.rangePrefix(under);
  const out: HolderIdentity[] = [];
  for (const kv of kvs) {
    const holder = parseIdentity(kv.key.slice(under.length), kv.value);
    const left = kv.lease === "0" ? undefined : await etcd.timeToLive(kv.lease).catch(() => undefined);
    out.push(left === undefined ? holder : { ...holder, until: Date.now() + left * 1000 });
  }
  return out;
}

/** Ends whoever's lease holds `board` (`hil release`): the holder, or undefined when free. */
export async function releaseEtcdBoard(
  etcd: EtcdGateway,
  settings: EtcdLeaseSettings,
  board: string,
): Promise<HolderIdentity | undefined> {
  const kv = await etcd.get(boardKey(settings.prefix, board));
  if (!kv) return undefined;
  if (kv.lease !== "0") await etcd.call("lease/revoke", { ID: kv.lease });
  else await etcd.call("kv/deleterange", { key: b64(kv.key) });
  return parseIdentity(board, kv.value);
}
