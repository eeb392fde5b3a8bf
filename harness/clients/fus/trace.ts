/**
 * A FUS state trace: what a host saw while driving an operation (device time, GET_STATE
 * answers, silences, re-enumerations/resyncs). Suites assert the documented sequence on
 * its `labels()`: "IDLE", "FW_UPGRD_ONGOING", "ERROR:IMG_NOT_FOUND", "NOT_RUNNING",
 * "reset" (no answer: the chip reset), "reconnected".
 */
import { fusErrorName, fusStateName, isNotRunning } from "../../protocol/fus/index.js";

export type FusTraceEntry =
  | { t: number; kind: "state"; state: number; error: number }
  | { t: number; kind: "no-answer" }
  | { t: number; kind: "reconnected" };

export function traceLabel(e: FusTraceEntry): string {
  if (e.kind === "no-answer") return "reset";
  if (e.kind === "reconnected") return "reconnected";
  if (isNotRunning(e)) return "NOT_RUNNING";
  const name = fusStateName(e.state) ?? `0x${e.state.toString(16)}`;
  return name === "ERROR" ? `ERROR:${fusErrorName(e.error)}` : name;
}

/**
 * Does `labels` follow `pattern`? Pattern items are labels or alternatives ("A|B"); a
 * trailing "+" means one or more, "*" zero or more, "?" optional. Labels not named anywhere
 * in the pattern ("reconnected") are ignored.
 */
export function followsPattern(labels: readonly string[], pattern: readonly string[]): boolean {
  const items = pattern.map((p) => {
    const q = p.at(-1);
    const [body, quant] = q === "+" || q === "*" || q === "?" ? [p.slice(0, -1), q] : [p, "1"];
    return { names: new Set(body.split("|")), q: quant };
  });
  const known = new Set(items.flatMap((i) => [...i.names]));
  const seq = labels.filter((l) => known.has(l));
  const match = (i: number, k: number): boolean => {
    if (k === items.length) return i === seq.length;
    const { names, q } = items[k]!;
    const is = (x: string | undefined) => x !== undefined && names.has(x);
    const min = q === "+" || q === "1" ? 1 : 0;
    const max = q === "1" || q === "?" ? 1 : Number.POSITIVE_INFINITY;
    let n = 0;
    while (n < min) {
      if (!is(seq[i + n])) return false;
      n++;
    }
    for (;;) {
      if (match(i + n, k + 1)) return true;
      if (n >= max || !is(seq[i + n])) return false;
      n++;
    }
  };
  return match(0, 0);
}
