/**
 * One vocabulary for every emulated family: `flash`, `state` + `onState`, `options` and
 * `port(name)` mean the same on each board the registry builds.
 */
import { expect } from "chai";
import { SmpClient } from "../../harness/clients/smp/index.js";
import { TKeyClient } from "../../harness/clients/tkey/index.js";
import type { EmulatedDevice, PortName } from "../../harness/devices/emulated-device.js";
import { Nrf52840McubootDevice } from "../../harness/devices/nrf52840-mcuboot/device.js";
import { createEmulator, emulatedFamilies } from "../../harness/devices/registry.js";
import { Stm32Device } from "../../harness/devices/stm32/device.js";
import { attachUsbDfu, usbPortOf } from "../../harness/devices/stm32/dfu/index.js";
import type { Family } from "../../harness/rig/board.js";
import { Flash } from "../../harness/sim/flash.js";
import { VirtualClock } from "../../harness/sim/virtual-clock.js";
import { HostEnd } from "../../harness/transport/byte-pair.js";
import type { ByteStream } from "../../harness/transport/byte-stream.js";

interface Expected {
  /** One option the family reads, and where its effect shows. */
  option: Record<string, unknown>;
  effect: (dev: EmulatedDevice) => unknown;
  effectWant: unknown;
  /** onState calls from a power-on, "new<-previous". */
  powerOn: string[];
  ports: PortName[];
  /** Something on the wire that only the family's own firmware answers. */
  talk?: (host: ByteStream, clock: VirtualClock) => Promise<unknown>;
  talkWant?: unknown;
}

const EXPECTED: Record<string, Expected> = {
  stm32l432: stm32Expected(),
  stm32wb55: stm32Expected(),
  nrf52840: {
    option: { mode: "swap-using-scratch", recoveryWhenNoImage: true },
    effect: (dev) => (dev as Nrf52840McubootDevice).mode,
    effectWant: "scratch",
    // Blank flash: MCUboot finds no image and, as asked, stays in serial recovery.
    powerOn: ["bootloader<-off", "recovery<-bootloader"],
    ports: ["console"],
    talk: (host, clock) => new SmpClient(host, clock).echo("vocabulary"),
    talkWant: "vocabulary",
  },
  tkey: {
    option: { appMaxSize: 0x1000 },
    effect: (dev) => (dev as unknown as { profile: { appMaxSize: number } }).profile.appMaxSize,
    effectWant: 0x1000,
    powerOn: ["INITIAL<-off"],
    ports: ["tkey"],
    talk: async (host, clock) => {
      const probed = await new TKeyClient(host, { clock }).probe();
      return probed.mode === "firmware" ? `${probed.nameVersion.name0}${probed.nameVersion.name1}` : probed;
    },
    talkWant: "tk1 mkdf",
  },
  "sim-nor": {
    option: { note: "no options of its own: kept as given" },
    effect: (dev) => dev.options.note,
    effectWant: "no options of its own: kept as given",
    // Blank flash: the updater boots and finds nothing to run.
    powerOn: ["booting<-off", "no-image<-booting"],
    ports: [],
  },
};

function stm32Expected(): Expected {
  return {
    option: { boot: "app" },
    effect: (dev) => (dev as Stm32Device).boot0,
    effectWant: false,
    // BOOT0 low and a blank flash: the empty-flash check boots the ROM.
    powerOn: ["bootloader<-off"],
    ports: ["usart"],
    // AN3155: 0x7F starts a session, the ROM answers ACK.
    talk: async (host) => {
      await host.write(Uint8Array.of(0x7f));
      return [...(await host.read(1, { timeoutMs: 1000 }))];
    },
    talkWant: [0x79],
  };
}

function build(family: Family, options?: Record<string, unknown>) {
  const clock = new VirtualClock();
  const dev = createEmulator(family, { clock, seed: 5, options });
  return { clock, dev };
}

describe("devices: one emulator vocabulary", () => {
  it("covers every emulated family", () => {
    expect(emulatedFamilies().sort()).to.deep.equal(Object.keys(EXPECTED).sort());
  });

  for (const family of emulatedFamilies()) {
    const want = EXPECTED[family]!;
    describe(family, () => {
      it("flash: the main flash, one of `flashes` (none on a board without flash)", () => {
        const { dev } = build(family);
        if (family === "tkey") {
          expect(dev.flash).to.equal(undefined);
          expect(dev.flashes).to.deep.equal([]);
          return;
        }
        expect(dev.flash).to.be.instanceOf(Flash);
        expect(dev.flashes[0]).to.equal(dev.flash);
        if (dev instanceof Stm32Device) expect(dev.flash).to.equal(dev.chip.flash);
      });

      it("state and onState: off, then each change with the one before, and off again", async () => {
        const { dev } = build(family, family === "nrf52840" ? { recoveryWhenNoImage: true } : undefined);
        expect(dev.state).to.equal("off");
        const heard: string[] = [];
        const stop = dev.onState((s, prev) => heard.push(`${s}<-${prev}`));
        await dev.power.on();
        expect(heard).to.deep.equal(want.powerOn);
        expect(dev.state).to.equal(want.powerOn.at(-1)!.split("<-")[0]);
        await dev.power.off();
        expect(dev.state).to.equal("off");
        expect(heard.at(-1)).to.equal(`off<-${want.powerOn.at(-1)!.split("<-")[0]}`);
        stop();
        const count = heard.length;
        await dev.power.on();
        expect(heard.length, "no calls after unsubscribe").to.equal(count);
      });

      it("options: what the rig gave, as a copy, and the device acts on it", () => {
        const given = { ...want.option };
        const { dev } = build(family, given);
        expect(dev.options).to.deep.equal(want.option);
        given.extra = 1;
        expect(dev.options).not.to.have.property("extra");
        expect(want.effect(dev)).to.deep.equal(want.effectWant);
        expect(build(family).dev.options).to.deep.equal({});
      });

      it("port(name): the host side of each serial line, and a clear error for any other", async () => {
        const { dev, clock } = build(
          family,
          family === "nrf52840" ? { recoveryWhenNoImage: true } : undefined,
        );
        expect(dev.portNames).to.deep.equal(want.ports);
        await dev.power.on();
        for (const name of want.ports) {
          const host = dev.port(name);
          expect(host).to.be.instanceOf(HostEnd);
          expect(await want.talk!(host, clock)).to.deep.equal(want.talkWant);
        }
        const other = (["usart", "console", "tkey"] as const).find((n) => !want.ports.includes(n))!;
        expect(() => dev.port(other)).to.throw(
          new RegExp(`emulated ${family} board ${dev.serial} has no '${other}' port \\(`),
        );
      });
    });
  }

  it("stm32: usb() is the port the rig attached; a bare device gets one with its own options", () => {
    const { dev } = build("stm32l432");
    const stm32 = dev as Stm32Device;
    expect(stm32.usb()).to.equal(usbPortOf(stm32)).and.not.equal(undefined);
    const bare = new Stm32Device({ clock: new VirtualClock(), seed: 1, family: "stm32wb55" });
    expect(usbPortOf(bare)).to.equal(undefined);
    const port = bare.usb();
    expect(usbPortOf(bare)).to.equal(port);
    expect(bare.usb()).to.equal(port);
    const replaced = attachUsbDfu(bare);
    expect(bare.usb()).to.equal(replaced);
  });

  it("stm32: state is the kind of the detailed mode, and onModeChange still gives the details", async () => {
    const { dev } = build("stm32l432");
    const stm32 = dev as Stm32Device;
    const modes: string[] = [];
    stm32.onModeChange((m) => modes.push(m.kind === "halted" ? `halted: ${m.reason}` : m.kind));
    await stm32.power.on();
    stm32.go(0x2000_0000);
    expect(stm32.state).to.equal("halted");
    expect(stm32.mode).to.deep.include({ kind: "halted" });
    expect(modes).to.deep.equal(["bootloader", "halted: no valid vector table at 0x20000000"]);
  });

  it("nrf52840: the device's options come from the context's options", () => {
    const dev = new Nrf52840McubootDevice({
      clock: new VirtualClock(),
      seed: 1,
      options: { mode: "overwrite-only", downgradePrevention: true },
    });
    expect(dev.options).to.deep.equal({ mode: "overwrite-only", downgradePrevention: true });
    expect(dev.mode).to.equal("overwrite-only");
    expect(dev.port("console"), "one console line, the same each time").to.equal(dev.port("console"));
  });
});
