/**
 * The one shape of a host client (DFU, USART, FUS, TKey, SMP): opened on a link with the
 * rig's clock (never a silent wall clock), a transcript and timeouts; typed events; close.
 * `Client.open(link, opts)` is the entry point of each.
 */
import type { Clock } from "../transport/clock.js";
import type { Transcript } from "../transport/transcript.js";

export interface ClientOptions<T> {
  /** The rig's clock: virtual on emulated rigs, a WallClock only when the caller says so. */
  clock: Clock;
  /** Where the session is recorded; a new one on `clock` when absent. */
  transcript?: Transcript;
  /** Overrides of the client's per-wait budgets, in ms of `clock`. */
  timeouts?: Partial<T>;
}

/** Typed client events: `on(kind, fn)` returns the unsubscribe. */
export interface ClientEvents<M> {
  on<K extends keyof M & string>(kind: K, fn: (event: M[K]) => void): () => void;
}

export interface HostClient<M> {
  readonly events: ClientEvents<M>;
  readonly transcript: Transcript;
  /** Ends the session and releases the link (its stream or USB handle). Idempotent. */
  close(): Promise<void>;
}

/** An event union keyed by its discriminator: `{ chunk: {type:"chunk",...}, ... }`. */
export type EventsByKind<E, D extends keyof E> = {
  [K in E[D] & string]: Extract<E, Record<D, K>>;
};

/**
 * Typed `events.on(kind, fn)` over a client's one-listener subscription (`on(listener)`,
 * `onEvent(listener)`), filtering by the event's discriminator field.
 */
export function eventsByKind<E, D extends keyof E>(
  subscribe: (listener: (event: E) => void) => () => void,
  discriminator: D,
): ClientEvents<EventsByKind<E, D>> {
  return {
    on(kind, fn) {
      return subscribe((event) => {
        if (event[discriminator] === kind) (fn as (e: E) => void)(event);
      });
    },
  };
}

/** A plain typed event hub for a client that had none. */
export class EventHub<M> implements ClientEvents<M> {
  readonly #listeners = new Map<keyof M, Set<(e: never) => void>>();

  on<K extends keyof M & string>(kind: K, fn: (event: M[K]) => void): () => void {
    const set = this.#listeners.get(kind) ?? new Set();
    this.#listeners.set(kind, set);
    set.add(fn as (e: never) => void);
    return () => set.delete(fn as (e: never) => void);
  }

  emit<K extends keyof M & string>(kind: K, event: M[K]): void {
    for (const l of this.#listeners.get(kind) ?? []) (l as (e: M[K]) => void)(event);
  }
}
