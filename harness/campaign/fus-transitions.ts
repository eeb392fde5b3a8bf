/**
 * The FUS state machine as a host sees it (AN5185 Table 10 states, Table 11 errors): what a
 * FusClient's trace may show. Every answer is a documented value, and between two answers
 * with no reset in between FUS takes only documented steps: an operation of one kind never
 * turns into another without passing idle, and neither FUS nor the wireless stack becomes
 * the other without a reset (§1.2, Table 1).
 */
import type { FusTraceEntry } from "../clients/fus/index.js";
import { FusError, fusErrorName, fusStateName, isNotRunning } from "../protocol/fus/index.js";

type StateEntry = Extract<FusTraceEntry, { kind: "state" }>;

function label(e: StateEntry): string {
  if (isNotRunning(e)) return "NOT_RUNNING";
  const name = fusStateName(e.state) ?? `0x${e.state.toString(16)}`;
  return name === "ERROR" ? `ERROR:${fusErrorName(e.error)}` : `${name}(0x${e.state.toString(16)})`;
}

/** Why a state answer is not one Table 10 / Table 11 documents, or undefined. */
function undocumentedValue(e: StateEntry): string | undefined {
  const name = fusStateName(e.state);
  if (!name) return `state 0x${e.state.toString(16)} is not a Table 10 value`;
  if (name === "ERROR" && fusErrorName(e.error).startsWith("0x"))
    return `error 0x${e.error.toString(16)} is not a Table 11 value`;
  if (name !== "ERROR" && e.error !== FusError.NO_ERROR && !isNotRunning(e))
    return `${name} with error 0x${e.error.toString(16)}`;
  return undefined;
}

/** Whether FUS may answer `b` right after `a` with no reset between them. */
function documentedStep(a: StateEntry, b: StateEntry): boolean {
  const stackA = isNotRunning(a);
  const stackB = isNotRunning(b);
  // FUS and the wireless stack only take over from each other through a reset.
  if (stackA || stackB) return stackA && stackB;
  const na = fusStateName(a.state);
  const nb = fusStateName(b.state);
  // One ongoing operation does not become another kind without passing idle.
  const ongoing = (n: string | undefined) => n?.endsWith("_ONGOING") ?? false;
  if (ongoing(na) && ongoing(nb)) return na === nb;
  return true;
}

/** Messages for every undocumented value or step in `trace` (empty when it follows Table 10). */
export function undocumentedTransitions(trace: readonly FusTraceEntry[]): string[] {
  const found: string[] = [];
  let prev: StateEntry | undefined;
  for (const e of trace) {
    if (e.kind !== "state") {
      // A reset (no answer) or a re-enumeration: after it FUS may be anywhere documented.
      prev = undefined;
      continue;
    }
    const bad = undocumentedValue(e);
    if (bad) found.push(`at ${e.t} ms FUS answered ${bad}`);
    else if (prev && !documentedStep(prev, e))
      found.push(`at ${e.t} ms FUS went from ${label(prev)} to ${label(e)} with no reset between`);
    prev = e;
  }
  return found;
}
