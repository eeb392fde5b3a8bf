import { expect } from "chai";
import { SmpTimeoutError } from "../../../harness/clients/smp/index.js";
import { parseFault } from "../../../harness/sim/faults.js";
import { app, board } from "./helpers.js";

describe("devices/nrf52840-mcuboot: protocol-event faults (design.md FaultPlan)", () => {
  it("power cut at the 5th upload chunk: no answer, the old image boots, the upload can start over", async () => {
    const v1 = app("1.0.0", 9000);
    const v2 = app("2.0.0", 13000);
    const { dev, client } = await board(v1);
    dev.faults.add(parseFault("event:smp.upload.chunk#5=power-cut"));
    const err = await client.upload(v2).catch((e) => e);
    expect(err).to.be.instanceOf(SmpTimeoutError);
    expect(dev.state).to.equal("off");
    expect(dev.faults.fired.map((f) => f.detail)).to.deep.equal(["event smp.upload.chunk #5"]);
    await dev.power.on();
    expect(dev.runningVersion).to.equal("1.0.0");
    await client.upload(v2);
    expect(dev.secondary.read(0, v2.length)).to.deep.equal(v2);
  });

  it("a corrupted frame gets no answer; the client's resend is served", async () => {
    const { dev, client } = await board(app("1.0.0", 9000));
    dev.faults.add(parseFault("event:smp.rx.frame#2=serial-corrupt"));
    expect(await client.echo("one")).to.equal("one");
    const t0 = dev.clock.now();
    expect(await client.echo("two")).to.equal("two");
    expect(dev.clock.now() - t0, "one timeout before the resend").to.be.at.least(client.timeoutMs);
  });
});
