/**
 * the USART client against an emulated STM32 USART bootloader with the `misbehave` personality: random seeds ×
 * operations; each must end within its timeouts with a typed error or success.
 */
import { checkMisbehaving, NIGHTLY_EXCHANGES } from "./contract.js";
import { usartOp, usartRun } from "./usart-run.js";

describe("clients/usart against a misbehaving device (property)", () => {
  it("every operation ends within its timeouts, fails typed, and writes only the pages asked for", async function () {
    this.timeout(NIGHTLY_EXCHANGES > 0 ? 0 : 60_000);
    await checkMisbehaving({ label: "usart", runs: 20, op: usartOp, maxOps: 5, run: usartRun });
  });
});
