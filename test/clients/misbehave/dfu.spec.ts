/**
 * DfuClient against the ROM DFU with the `misbehave` personality: random seeds × random
 * operations, each of which must end within its timeouts with a typed error or success,
 * and no flash outside the pages asked for may change.
 */
import { checkMisbehaving, NIGHTLY_EXCHANGES } from "./contract.js";
import { dfuOp, dfuRun } from "./dfu-run.js";

describe("clients/dfu against a misbehaving device (property)", () => {
  it("every operation ends within its timeouts, fails typed, and writes only the pages asked for", async function () {
    this.timeout(NIGHTLY_EXCHANGES > 0 ? 0 : 60_000);
    await checkMisbehaving({ label: "dfu", runs: 25, op: dfuOp, maxOps: 4, run: dfuRun });
  });
});
