import type { CampaignResult } from "./campaign.js";

/** The summary of one family's campaign: what it covered, then each failure and its minimal plan. */
export function summaryLines(r: CampaignResult): string[] {
  const ratio = r.wallMs > 0 ? r.deviceMs / r.wallMs : 0;
  const lines = [
    `  ${r.family} (${r.board}): ${r.plans.length} plans, ${r.faults} faults (${r.faultsFired} fired), ${r.flashOps} flash operations; device ${(r.deviceMs / 1000).toFixed(1)} s in ${(r.wallMs / 1000).toFixed(1)} s wall (${ratio.toFixed(0)}×); ${r.failures.length} failing`,
  ];
  for (const f of r.failures) {
    lines.push(`    plan ${f.index} (seed ${f.seed}): ${f.plan}`);
    for (const v of f.violations) lines.push(`      ${v.invariant} in ${v.step} [${v.clause}]: ${v.message}`);
    if (f.minimal) {
      lines.push(
        `    minimal plan (${f.minimal.tries} plans tried, ${(f.minimal.wallMs / 1000).toFixed(2)} s): ${f.minimal.plan}`,
      );
      for (const v of f.minimal.violations) lines.push(`      ${v.invariant} in ${v.step}: ${v.message}`);
    }
  }
  return lines;
}
