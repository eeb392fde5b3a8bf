/**
 * FusClient over both links it has (USB DFU, USART) against a WB55 with the `misbehave`
 * personality: random seeds × FUS operations; each must end within its timeouts with a
 * typed error or success, and the user's application flash must stay as it was.
 */
import fc from "fast-check";
import { NIGHTLY_EXCHANGES, rounds } from "./contract.js";
import { fusOp, fusRun } from "./fus-run.js";

describe("clients/fus against a misbehaving device (property)", () => {
  for (const link of ["usb-dfu", "usart"] as const)
    it(`over ${link}: every operation ends within its timeouts, fails typed, and leaves the user's flash`, async function () {
      this.timeout(NIGHTLY_EXCHANGES > 0 ? 0 : 60_000);
      let exchanges = 0;
      await rounds(
        10,
        () => exchanges,
        (opts) =>
          fc.assert(
            fc.asyncProperty(
              fc.integer({ min: 0, max: 0x7fff_ffff }),
              fc.constantFrom(0.05, 0.2, 0.5),
              fc.array(fusOp, { minLength: 1, maxLength: 4 }),
              async (seed, rate, ops) => {
                const r = await fusRun(link, seed, rate, ops);
                exchanges += r.exchanges;
                if (r.problems.length > 0)
                  throw new Error(`seed ${seed} rate ${rate}: ${r.problems.join("; ")}`);
              },
            ),
            opts,
          ),
      );
      if (NIGHTLY_EXCHANGES > 0) console.log(`      fus ${link}: ${exchanges} exchanges`);
    });
});
