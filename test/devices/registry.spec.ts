/**
 * The device registry hands out each emulated board whole: the device, its inspect view and
 * the emulator's half of its strategy, all bound to that one device, so the rig never needs
 * a device class.
 */
import { expect } from "chai";
import { createEmulatedBoard, emulatedFamilies, inspectKind } from "../../harness/devices/registry.js";
import { VirtualClock } from "../../harness/sim/virtual-clock.js";

describe("devices/registry: emulated board parts", () => {
  for (const family of emulatedFamilies()) {
    it(`${family}: the inspect view and the factory reset act on the device built with them`, async () => {
      const parts = createEmulatedBoard(family, { clock: new VirtualClock(), seed: 3 });
      expect(parts.device.family).to.equal(family);
      expect(parts.inspect.flashes).to.have.length(parts.device.flashes.length);
      for (const [i, f] of parts.inspect.flashes.entries()) expect(f).to.equal(parts.device.flashes[i]);
      expect(inspectKind(parts.inspect)).to.equal(family.startsWith("stm32") ? "stm32" : family);
      if (family === "tkey") {
        // A TKey has no memory a factory reset restores: its lab strategy (a replug) serves.
        expect(parts.strategy).to.equal(undefined);
        return;
      }
      const strategy = parts.strategy!;
      expect(strategy.states).to.include(strategy.afterFactory);
      expect(strategy.restores).to.include("flash");
      // Program the end of the main flash, then reset: this device's flash is erased there again.
      const flash = parts.device.flash!;
      const end = flash.base + flash.size - flash.sectors.at(-1)!.size;
      flash.load(end, Uint8Array.of(0x12, 0x34));
      expect(flash.isErased(end, 2)).to.equal(false);
      await strategy.factoryReset({});
      expect(flash.isErased(end, 2), "the last sector erased by the reset").to.equal(true);
    });
  }
});
