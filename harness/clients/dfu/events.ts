/**
 * What a DfuClient reports while it works. Suites and fault plans hook into these (on a lab
 * rig, "after DNLOAD block 37" is the 37th `block` event, and the rig's power backend cuts).
 */
import type { DfuStatusReply } from "../../protocol/dfu/index.js";
import type { UsbDevice } from "../../transport/usb.js";

export interface DfuEvents {
  /** Every GETSTATUS reply. */
  status: DfuStatusReply;
  /** A page erase confirmed (dfuDNLOAD-IDLE after it). */
  erase: { address: number; index: number; total: number };
  /** A data block confirmed written: `index` counts blocks of this download from 1. */
  block: { index: number; address: number; length: number; total: number };
  /** Bytes of the current download or upload done so far. */
  progress: { done: number; total: number; phase: "erase" | "download" | "upload" };
  /** The client now talks to a new enumeration. */
  reenumerated: { device: UsbDevice };
  /** A GETSTATUS stall taken for the L4 page-erase quirk and retried. */
  "stall-retry": { attempt: number; operation: string };
}

export type DfuEventName = keyof DfuEvents;
type Listener<K extends DfuEventName> = (event: DfuEvents[K]) => void;

export class DfuEventEmitter {
  readonly #listeners = new Map<DfuEventName, Set<(e: never) => void>>();

  on<K extends DfuEventName>(name: K, listener: Listener<K>): () => void {
    const set = this.#listeners.get(name) ?? new Set();
    this.#listeners.set(name, set);
    set.add(listener as (e: never) => void);
    return () => set.delete(listener as (e: never) => void);
  }

  emit<K extends DfuEventName>(name: K, event: DfuEvents[K]): void {
    for (const l of this.#listeners.get(name) ?? []) (l as Listener<K>)(event);
  }
}
