/** Client events: suites and protocol-event fault plans hook into these (design.md, clients). */
export interface UsartEvents {
  /** A command frame is about to be sent. */
  command: { code: number; name: string };
  /** One Write Memory block was ACKed. `index` is 0-based among `count` blocks of this write. */
  "block-written": { address: number; length: number; index: number; count: number };
  "block-read": { address: number; length: number; index: number; count: number };
  /** Pages erased by one Erase / Extended Erase command. */
  erased: { pages: number[] | "mass" };
  /** The client (re)synchronised: "ack" on a fresh bootloader, "nack" when it was already synced. */
  synced: { how: "ack" | "nack" | "resync" };
  /** The bootloader reset itself after a protection/option-byte command. */
  reset: { after: string };
}

export type UsartEventName = keyof UsartEvents;

export class UsartEmitter {
  readonly #listeners = new Map<UsartEventName, Set<(e: never) => void>>();

  on<K extends UsartEventName>(name: K, listener: (e: UsartEvents[K]) => void): () => void {
    const set = this.#listeners.get(name) ?? new Set();
    this.#listeners.set(name, set);
    set.add(listener as (e: never) => void);
    return () => set.delete(listener as (e: never) => void);
  }

  /** Whether anyone listens: lets the client skip building events per command. */
  has(name: UsartEventName): boolean {
    return (this.#listeners.get(name)?.size ?? 0) > 0;
  }

  /**
   * Listeners may be async (a lab rig cutting power): the client waits for them. Nothing to
   * wait for without listeners: the common case costs no promise (it runs per block).
   */
  emit<K extends UsartEventName>(name: K, event: UsartEvents[K]): Promise<void> | undefined {
    const listeners = this.#listeners.get(name);
    if (!listeners || listeners.size === 0) return undefined;
    return callInTurn([...listeners] as Array<(e: UsartEvents[K]) => unknown>, event);
  }
}

async function callInTurn<E>(listeners: Array<(e: E) => unknown>, event: E): Promise<void> {
  for (const l of listeners) await l(event);
}
