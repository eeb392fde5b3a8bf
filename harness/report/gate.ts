/**
 * The qualification quality gate: no failed or broken result of severity critical or
 * blocker, a minimum success rate over the results that ran, and no uncovered or unpassed
 * clause in the named catalogue sets. `hil report --gate` exits non-zero when it fails.
 */
import type { QualificationMatrix } from "./matrix.js";
import { type HilResult, label } from "./results.js";

export interface GateOptions {
  /** Passed ÷ (passed + failed + broken); 0..1. Default 1. */
  minSuccessRate?: number;
  /** Catalogue sets (`set:` in clauses.yaml) whose every clause needs a passing test on some board. */
  requireSets?: readonly string[];
}

export interface GateResult {
  ok: boolean;
  /** One line per violated rule. */
  violations: string[];
  successRate: number;
}

const BLOCKING_SEVERITIES = new Set(["critical", "blocker"]);

export function checkGate(
  results: readonly HilResult[],
  matrix: QualificationMatrix,
  opts: GateOptions = {},
): GateResult {
  const violations: string[] = [];
  const bad = results.filter((r) => r.status === "failed" || r.status === "broken");
  for (const r of bad) {
    const severity = label(r, "severity") ?? "normal";
    if (BLOCKING_SEVERITIES.has(severity))
      violations.push(
        `${severity} test failed (${r.category ?? "harness"}): ${r.fullName} on ${label(r, "board") ?? "?"}`,
      );
  }
  const ran = results.filter((r) => r.status === "passed").length + bad.length;
  const successRate = ran === 0 ? 0 : results.filter((r) => r.status === "passed").length / ran;
  const min = opts.minSuccessRate ?? 1;
  if (ran === 0) violations.push("no test ran");
  else if (successRate < min)
    violations.push(
      `success rate ${(successRate * 100).toFixed(1)}% below ${(min * 100).toFixed(1)}% (${bad.length} of ${ran} failed or broken)`,
    );
  for (const set of opts.requireSets ?? []) {
    const rows = matrix.rows.filter((r) => r.set === set);
    if (rows.length === 0) violations.push(`clause set '${set}' is not in the catalogue`);
    for (const r of rows) {
      if (r.status === "gap") violations.push(`set ${set}: no test for ${r.clause}`);
      else if (r.tests.length === 0)
        violations.push(`set ${set}: ${r.clause} did not run (${r.note ?? "not run"})`);
      else if (!r.cells.some((c) => c.status === "passed"))
        violations.push(`set ${set}: no passing test for ${r.clause}`);
    }
  }
  return { ok: violations.length === 0, violations, successRate };
}
