/**
 * TKeyClient against an emulated TKey with the `misbehave` personality: random seeds ×
 * operations; each must end within its timeouts with a typed error or success.
 */
import { checkMisbehaving, NIGHTLY_EXCHANGES } from "./contract.js";
import { tkeyOp, tkeyRun } from "./tkey-run.js";

describe("clients/tkey against a misbehaving device (property)", () => {
  it("every operation ends within its timeouts and fails typed", async function () {
    this.timeout(NIGHTLY_EXCHANGES > 0 ? 0 : 60_000);
    await checkMisbehaving({ label: "tkey", runs: 25, op: tkeyOp, maxOps: 5, run: tkeyRun });
  });
});
