import { expect } from "chai";
import {
  boardFamilyOf,
  type CampaignResult,
  campaignFamilies,
  clausesOf,
  covers,
  evidenceNote,
  forEachBoard,
  getRig,
  INVARIANT_IDS,
  type InvariantId,
  runCampaign,
  summaryLines,
} from "../../harness/index.js";

/**
 * A fixed-seed slice of the fault campaign (`hil campaign`) in every regression run: a few
 * seeded multi-fault plans per family, each followed by the documented recovery and a clean
 * update, with one test per invariant so the qualification matrix has a line for each, and
 * one per plan so the report names each fault scenario and its verdict (`hil campaign --seed
 * 20261206 --runs N` replays any of them, `hil replay` a failure's bundle).
 * The nightly campaign runs the same plans and many more (`hil campaign --budget 10m`).
 */
const rig = getRig();
const SEED = 20261206;
/** Plans per family: a few seconds of wall time in all. */
const RUNS: Record<string, number> = {
  stm32l432: 20,
  nrf52840: 10,
  "sim-nor": 30,
  "stm32l432-usart": 16,
  tkey: 24,
  stm32wb55: 10,
};

const WHAT: Record<InvariantId, string> = {
  "never-bricked": "no plan leaves a board a clean update cannot bring back",
  "old-or-new": "no plan leaves a board running an image that is neither the old nor the new one",
  "no-hang": "every client operation of every plan ends within its bound on the virtual clock",
  "error-category": "no plan ends an operation with a harness error",
};

describe("campaign: fixed-seed fault plans, recovery and a clean update", () => {
  for (const family of campaignFamilies()) {
    describe(`campaign ${family}`, () => {
      forEachBoard(rig, { family: boardFamilyOf(family), capabilities: ["inspect"] }, () => {
        let result: CampaignResult | undefined;
        const campaign = async () => {
          result ??= await runCampaign({
            family,
            seed: SEED,
            runs: RUNS[family] ?? 10,
            rigPath: rig.path,
          });
          return result;
        };
        const clauses = clausesOf(family);

        for (const invariant of INVARIANT_IDS) {
          covers(clauses[invariant]);
          it(`invariant: ${WHAT[invariant]}`, async () => {
            const r = await campaign();
            // The campaign section of the report: plans run, faults injected, failures, minimal plans.
            for (const line of summaryLines(r)) evidenceNote("campaign summary", line.trim());
            for (const p of r.plans)
              evidenceNote(
                "plans",
                `#${p.index}: ${p.plan} → ${p.violations.length ? "FAILED" : "ok"} (${p.fired.length} fired, ${p.flashOps} flash ops)`,
              );
            expect(r.plans.length, "plans run").to.equal(RUNS[family] ?? 10);
            expect(r.faultsFired, "faults that fired").to.be.above(0);
            const broken = r.failures.flatMap((f) =>
              f.violations
                .filter((v) => v.invariant === invariant)
                .map(
                  (v) =>
                    `plan ${f.index} ${f.plan} (minimal: ${f.minimal?.plan ?? "-"}): ${v.step}: ${v.message}`,
                ),
            );
            expect(broken).to.deep.equal([]);
          });
        }

        const runs = RUNS[family] ?? 10;
        for (let index = 0; index < runs; index++) {
          covers(...INVARIANT_IDS.map((i) => clauses[i]));
          it(`fault plan ${index + 1} of ${runs} (seed ${SEED}): recovery, then a clean update`, async () => {
            const r = await campaign();
            const plan = r.plans.find((p) => p.index === index);
            if (!plan) throw new Error(`campaign ${family} ran no plan #${index}`);
            evidenceNote("plan", `${plan.plan} (plan seed ${plan.seed})`);
            evidenceNote("faults that fired", plan.fired.join(", ") || "none");
            evidenceNote("device time", `${plan.deviceMs.toFixed(0)} ms, ${plan.flashOps} flash ops`);
            const failure = r.failures.find((f) => f.index === index);
            const minimal = failure?.minimal ? ` (minimal: ${failure.minimal.plan})` : "";
            expect(
              plan.violations.map((v) => `${v.invariant}: ${v.step}: ${v.message}`),
              `plan ${plan.plan}${minimal}`,
            ).to.deep.equal([]);
          });
        }
      });
    });
  }
});
