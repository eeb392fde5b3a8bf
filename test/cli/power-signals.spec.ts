/**
 * PowerSignals on virtual time: one transition at a time, the last waiting request wins, a
 * boot may be cut by the next request, and the after-boot hook runs only for a board that
 * is still on after the boot a request started.
 */
import { expect } from "chai";
import { PowerSignals } from "../../harness/cli/power-signals.js";
import { TKeyDevice } from "../../harness/devices/tkey/index.js";
import { VirtualClock } from "../../harness/sim/virtual-clock.js";

function setup() {
  const clock = new VirtualClock();
  const device = new TKeyDevice({ clock, seed: 1 });
  const said: string[] = [];
  let booted = 0;
  const signals = new PowerSignals(device, {
    booted: () => {
      booted++;
      device.port("tkey"); // throws TKeyAbsentError if called for a board that is not there
    },
    say: (line) => said.push(line),
  });
  const events = () => device.power.history.map((e) => e.event);
  return { clock, device, signals, said, events, booted: () => booted };
}

describe("cli/power-signals", () => {
  it("a request during a transition waits; of those waiting only the last runs", async () => {
    const { device, signals, said, events, booted } = setup();
    await device.power.on();
    signals.request("cycle", "SIGHUP");
    signals.request("cycle", "SIGHUP");
    signals.request("on", "SIGUSR2");
    signals.request("off", "SIGUSR1");
    await signals.idle();
    expect(device.power.isOn).to.equal(false);
    // The first cycle, then the off that replaced the waiting cycle and on.
    expect(events()).to.deep.equal(["on", "off", "on", "off"]);
    expect(said).to.deep.equal([
      "SIGHUP: power cycle",
      "SIGHUP: power cycle, after the transition under way",
      "SIGUSR2: power on, after the transition under way",
      "SIGUSR1: power off, after the transition under way",
      "power is off",
    ]);
    expect(booted(), "the hook of a boot the off cut short").to.equal(0);
  });

  it("a replug during the boot of the last cuts it; the hook runs once, for the board that stays on", async () => {
    const { clock, device, signals, said, events, booted } = setup();
    await device.power.on();
    signals.request("cycle", "SIGHUP");
    await clock.sleep(150); // off 100 ms, then the TKey boots for 100 ms: mid-boot
    expect(device.power.isOn && device.state === "off", "booting").to.equal(true);
    signals.request("cycle", "SIGHUP");
    await signals.idle();
    expect(events()).to.deep.equal(["on", "off", "on", "off", "on"]);
    expect(device.state).to.equal("INITIAL");
    expect(booted()).to.equal(1);
    expect(said.at(-1)).to.equal("power is on");
    expect(said.filter((l) => l === "power is on" || l === "power is off")).to.have.length(1);
  });

  it("on when on and off when off change nothing", async () => {
    const { device, signals, events, booted } = setup();
    signals.request("off", "SIGUSR1");
    await signals.idle();
    await device.power.on();
    signals.request("on", "SIGUSR2");
    await signals.idle();
    expect(events()).to.deep.equal(["on"]);
    expect(booted()).to.equal(0);
  });
});
