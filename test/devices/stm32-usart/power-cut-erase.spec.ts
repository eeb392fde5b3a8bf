/**
 * A board whose power goes during a many-page erase never answers it. The host waits no
 * longer than a mass erase's budget (35 s), not stm32flash's 5 s a page (320 s for 64 pages,
 * past a test's own 120 s), and ends with its timeout error and the transcript.
 */
import { expect } from "chai";
import { UsartTimeoutError } from "../../../harness/clients/stm32-usart/index.js";
import { bench } from "./fixture.js";

describe("stm32-usart client: a power cut during a 64-page erase", () => {
  it("ends in the client's timeout within the mass-erase budget, with the transcript", async () => {
    const { device, client } = await bench("stm32l432kc", {
      faults: ["erase#60=power-cut"].map((f) => `flash-op:${f}`),
    });
    await client.probe();
    const t0 = device.clock.now();
    const err = await client.erasePages([...Array(64).keys()]).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    const waited = device.clock.now() - t0;
    expect(err).to.be.instanceOf(UsartTimeoutError);
    expect(device.power.isOn).to.equal(false);
    // 35 s, give or take the 59 erases (22 ms each) before the cut and the command's bytes.
    expect(waited).to.be.within(35_000, 37_000);
    expect(err?.message).to.include("Extended Erase 64 page(s) from 0");
    expect((err as UsartTimeoutError).transcript.entries.length).to.be.above(0);
  });
});
