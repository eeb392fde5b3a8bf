/**
 * FusClient over both links it has (USB DFU, USART) against a WB55 with the `misbehave`
 * personality: random seeds × FUS operations; each must end within its timeouts with a
 * typed error or success, and the user's application flash must stay as it was.
 */
import { checkMisbehaving, NIGHTLY_EXCHANGES } from "./contract.js";
import { fusOp, fusRun } from "./fus-run.js";

describe("clients/fus against a misbehaving device (property)", () => {
  for (const link of ["usb-dfu", "usart"] as const)
    it(`over ${link}: every operation ends within its timeouts, fails typed, and leaves the user's flash`, async function () {
      this.timeout(NIGHTLY_EXCHANGES > 0 ? 0 : 60_000);
      await checkMisbehaving({
        label: `fus ${link}`,
        runs: 10,
        op: fusOp,
        maxOps: 4,
        run: (seed, rate, ops) => fusRun(link, seed, rate, ops),
      });
    });
});
