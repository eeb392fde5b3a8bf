/**
 * TKeyClient against an emulated TKey with the `misbehave` personality: random seeds ×
 * operations; each must end within its timeouts with a typed error or success.
 */
import fc from "fast-check";
import { NIGHTLY_EXCHANGES, rounds } from "./contract.js";
import { tkeyOp, tkeyRun } from "./tkey-run.js";

describe("clients/tkey against a misbehaving device (property)", () => {
  it("every operation ends within its timeouts and fails typed", async function () {
    this.timeout(NIGHTLY_EXCHANGES > 0 ? 0 : 60_000);
    let exchanges = 0;
    await rounds(
      25,
      () => exchanges,
      (opts) =>
        fc.assert(
          fc.asyncProperty(
            fc.integer({ min: 0, max: 0x7fff_ffff }),
            fc.constantFrom(0.05, 0.2, 0.5),
            fc.array(tkeyOp, { minLength: 1, maxLength: 5 }),
            async (seed, rate, ops) => {
              const r = await tkeyRun(seed, rate, ops);
              exchanges += r.exchanges;
              if (r.problems.length > 0)
                throw new Error(`seed ${seed} rate ${rate}: ${r.problems.join("; ")}`);
            },
          ),
          opts,
        ),
    );
    if (NIGHTLY_EXCHANGES > 0) console.log(`      tkey: ${exchanges} exchanges`);
  });
});
