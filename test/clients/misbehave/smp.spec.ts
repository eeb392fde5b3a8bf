/**
 * SmpClient against an nRF52840 (MCUboot + Zephyr SMP server) with the `misbehave`
 * personality: random seeds × operations; each must end within its timeouts and retries
 * with a typed error or success, and nothing outside the secondary slot may change.
 */
import { checkMisbehaving, NIGHTLY_EXCHANGES } from "./contract.js";
import { smpOp, smpRun } from "./smp-run.js";

describe("clients/smp against a misbehaving device (property)", () => {
  it("every operation ends within its timeouts, fails typed, and writes only the secondary slot", async function () {
    this.timeout(NIGHTLY_EXCHANGES > 0 ? 0 : 60_000);
    await checkMisbehaving({ label: "smp", runs: 15, op: smpOp, maxOps: 4, run: smpRun });
  });
});
