import { Stm32Chip } from "./chip.js";
import type { Stm32Device } from "./device.js";
import { factoryNv } from "./fus/cpu2.js";
import { OB } from "./option-bytes.js";

export interface Stm32FactoryOptions {
  /** Preloaded at the flash base (as over SWD). */
  readonly image?: Uint8Array | undefined;
  /** WB55: a wireless stack installed behind FUS (default true). */
  readonly stack?: boolean | undefined;
}

/**
 * An emulated STM32 as it leaves the factory: blank flash and OTP, default option bytes,
 * on a WB55 FUS with a stack (or none: SFSA moved up to FUS, SBRV at its base), `image` at
 * the flash base, BOOT0 high, powered into the ROM bootloader.
 */
export async function factoryResetStm32(dev: Stm32Device, opts: Stm32FactoryOptions = {}): Promise<void> {
  await dev.power.off();
  const blank = new Stm32Chip(dev.profile, dev.seed);
  dev.chip.flash.restore(blank.flash.snapshot());
  dev.chip.otp.restore(blank.otp.snapshot());
  dev.chip.optionBytes.store(blank.optionBytes.raw);
  if (dev.fus) {
    const withStack = opts.stack ?? true;
    if (!withStack) {
      dev.chip.optionBytes.setWord(OB.SFSA, (dev.chip.optionBytes.storedWord(OB.SFSA) & ~0xff) | 0xf4);
      dev.chip.optionBytes.setWord(OB.SBRV, 0x3d800);
    }
    dev.fus.nv = factoryNv(
      withStack,
      dev.chip.optionBytes.storedWord(OB.SFSA) & 0xff,
      dev.fus.factoryFusVersion,
    );
  }
  if (opts.image) dev.chip.flash.load(dev.profile.flash.base, opts.image);
  await dev.selectBoot("bootloader");
  await dev.power.on();
}
