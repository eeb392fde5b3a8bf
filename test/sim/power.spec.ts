import { expect } from "chai";
import { Flash, FlashUnpoweredError } from "../../harness/sim/flash.js";
import { PowerLostError, SimPower } from "../../harness/sim/power.js";
import { VirtualClock } from "../../harness/sim/virtual-clock.js";

function rig() {
  const clock = new VirtualClock();
  const flash = new Flash({ base: 0, sectors: [{ size: 64, count: 2 }], programUnit: 8 });
  const calls: string[] = [];
  const power = new SimPower(clock, [flash], {
    lost: (reason, event) => calls.push(`lost(${event}: ${reason})`),
    boot: async () => {
      calls.push(`boot@${clock.now()}`);
    },
  });
  return { clock, flash, power, calls };
}

describe("sim/SimPower", () => {
  it("starts off with unpowered flash; on() boots and powers the flash", async () => {
    const { flash, power, calls } = rig();
    expect(await power.state()).to.equal("off");
    expect(() => flash.erase(0)).to.throw(FlashUnpoweredError);
    await power.on();
    expect(await power.state()).to.equal("on");
    expect(flash.erase(0).ok).to.equal(true);
    expect(calls).to.deep.equal(["boot@0"]);
  });

  it("each power-on is a new epoch; work from an old epoch fails assertEpoch", async () => {
    const { power } = rig();
    await power.on();
    const epoch = power.epoch;
    power.assertEpoch(epoch);
    await power.cycle(50);
    expect(power.epoch).to.equal(epoch + 1);
    expect(() => power.assertEpoch(epoch)).to.throw(PowerLostError);
  });

  it("cycle() keeps power off for the given device time and logs the history", async () => {
    const { clock, power, calls } = rig();
    await power.on();
    await power.cycle(250);
    expect(clock.now()).to.equal(250);
    expect(power.history.map((h) => [h.event, h.t])).to.deep.equal([
      ["on", 0],
      ["off", 0],
      ["on", 250],
    ]);
    expect(calls).to.deep.equal(["boot@0", "lost(off: power off)", "boot@250"]);
  });

  it("reset() drops the core and boots again without a power-off in the history; lose() is logged as lost", async () => {
    const { power, calls } = rig();
    await power.on();
    await power.reset("NVIC_SystemReset");
    power.lose("brown-out");
    expect(power.history.map((h) => h.event)).to.deep.equal(["on", "reset", "on", "lost"]);
    expect(calls).to.deep.equal([
      "boot@0",
      "lost(reset: NVIC_SystemReset)",
      "boot@0",
      "lost(lost: brown-out)",
    ]);
    // Nothing to drop when already off.
    await power.off();
    expect(power.history).to.have.length(4);
  });
});
