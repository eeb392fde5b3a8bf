/**
 * SmpClient against an nRF52840 (MCUboot + Zephyr SMP server) with the `misbehave`
 * personality: random seeds × operations; each must end within its timeouts and retries
 * with a typed error or success, and nothing outside the secondary slot may change.
 */
import fc from "fast-check";
import { NIGHTLY_EXCHANGES, rounds } from "./contract.js";
import { smpOp, smpRun } from "./smp-run.js";

describe("clients/smp against a misbehaving device (property)", () => {
  it("every operation ends within its timeouts, fails typed, and writes only the secondary slot", async function () {
    this.timeout(NIGHTLY_EXCHANGES > 0 ? 0 : 60_000);
    let exchanges = 0;
    await rounds(
      15,
      () => exchanges,
      (opts) =>
        fc.assert(
          fc.asyncProperty(
            fc.integer({ min: 0, max: 0x7fff_ffff }),
            fc.constantFrom(0.05, 0.2, 0.5),
            fc.array(smpOp, { minLength: 1, maxLength: 4 }),
            async (seed, rate, ops) => {
              const r = await smpRun(seed, rate, ops);
              exchanges += r.exchanges;
              if (r.problems.length > 0)
                throw new Error(`seed ${seed} rate ${rate}: ${r.problems.join("; ")}`);
            },
          ),
          opts,
        ),
    );
    if (NIGHTLY_EXCHANGES > 0) console.log(`      smp: ${exchanges} exchanges`);
  });
});
