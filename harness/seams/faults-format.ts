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
