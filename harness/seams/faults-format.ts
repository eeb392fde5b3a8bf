import type { FlashOpKind } from "./flash-view.js";

/** Where a fault fires. harness/sim/faults.ts builds plans of them. */
export type FaultWhere =
  /** The Nth flash operation (1-based, the flash's own numbering), optionally only counting one kind. */
  | { at: "flash-op"; op: number; kind?: FlashOpKind }
  /** The k-th occurrence (1-based) of a named protocol event, e.g. "dfu.dnload.block". */
  | { at: "event"; event: string; occurrence: number }
  /** When the device clock reaches `ms`. */
  | { at: "time"; ms: number };

/** Text-form prefix of a DFU status fault: `dfu-status-errPROG`. */
export const DFU_STATUS_PREFIX = "dfu-status-";

/**
 * The WHAT part of a fault, as far as its text form needs it. harness/sim/faults.ts has
 * the exact union (FaultWhat); this is the shape reports and device logs read.
 */
export interface FaultWhatView {
  readonly do: string;
  readonly torn?: boolean;
  readonly status?: string;
}

/** The WHAT part of the text form ("power-cut-torn", "dfu-status-errPROG"): what logs and reports show. */
export function formatWhat(what: FaultWhatView): string {
  if (what.do === "power-cut" && what.torn) return "power-cut-torn";
  if (what.do === "dfu-status") return `${DFU_STATUS_PREFIX}${what.status}`;
  return what.do;
}

/** A fault as far as its text form needs it; harness/sim/faults.ts's Fault is one. */
export interface FaultView {
  readonly where: FaultWhere;
  readonly what: FaultWhatView;
}

/** The text form of a fault, as rig files, `--fault` and reports write it: `flash-op:erase#3=power-cut-torn`. */
export function formatFault(f: FaultView): string {
  const w = f.where;
  const where =
    w.at === "flash-op"
      ? `flash-op:${w.kind ? `${w.kind}#` : ""}${w.op}`
      : w.at === "event"
        ? `event:${w.event}#${w.occurrence}`
        : `time:${w.ms}`;
  return `${where}=${formatWhat(f.what)}`;
}
