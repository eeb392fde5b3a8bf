import type { Family } from "../seams/family.js";
import type { BoardState, FactoryOptions, Restorable } from "../seams/strategy.js";
import type { EmulatedDevice, EmulatorContext } from "./emulated-device.js";
import type { Inspect } from "./inspect-of.js";
import { Nrf52840McubootDevice } from "./nrf52840-mcuboot/device.js";
import { Nrf52840Inspect } from "./nrf52840-mcuboot/inspect.js";
import { factoryResetNrf52840 } from "./nrf52840-mcuboot/strategy.js";
import { SimNorDevice } from "./sim-nor/device.js";
import { SimNorInspect } from "./sim-nor/inspect.js";
import { factoryResetSimNor } from "./sim-nor/strategy.js";
import { Stm32Device } from "./stm32/device.js";
import { Stm32Inspect } from "./stm32/inspect.js";
import { profileForFamily, type Stm32Profile } from "./stm32/profiles.js";
import { factoryResetStm32 } from "./stm32/strategy.js";
import { TKeyDevice } from "./tkey/device.js";
import { TKeyInspect } from "./tkey/inspect.js";

export { type Inspect, type InspectByKind, type InspectKind, inspectKind } from "./inspect-of.js";
export { buildImage as buildSimNorImage } from "./sim-nor/image.js";
// The rig reaches the emulators through this module only: it re-exports what a board needs.
export { DEFAULT_APP_USB, emulatedUsbBus, usbPortOf } from "./stm32/dfu/index.js";
export { buildFusImage, type FusImageSpec } from "./stm32/fus/image.js";

/**
 * The emulator's half of a board strategy: the states the family has and a factory reset that
 * restores the emulator's memories. The rig wraps it (rig/strategies/emulated.ts), and its
 * transitions go through the board's power and boot controls, as on a lab board.
 */
export interface EmulatedStrategyParts {
  readonly states: readonly BoardState[];
  readonly afterFactory: BoardState;
  readonly restores: readonly Restorable[];
  factoryReset(opts: FactoryOptions): Promise<void>;
}

/** An emulated board's device with its inspect view and, where it has one, its strategy. */
export interface EmulatedBoardParts {
  readonly device: EmulatedDevice;
  readonly inspect: Inspect;
  /** Absent: the family's lab strategy serves the emulator as it is (TKey: a replug). */
  readonly strategy?: EmulatedStrategyParts;
}

type Factory = (ctx: EmulatorContext) => EmulatedBoardParts;

function family<D extends EmulatedDevice>(
  create: (ctx: EmulatorContext) => D,
  inspect: (device: D) => Inspect,
  strategy?: (device: D) => EmulatedStrategyParts,
): Factory {
  return (ctx) => {
    const device = create(ctx);
    return { device, inspect: inspect(device), strategy: strategy?.(device) };
  };
}

const STM32_STATES: readonly BoardState[] = ["off", "rom-dfu", "rom-usart", "app"];

/**
 * Emulators by family. Each family issue adds its line here (stm32l432/stm32wb55: DfuSe and
 * USART issues; tkey; nrf52840); a rig naming an emulated board of a family without one
 * fails to build with the list of families that have one.
 */
const FACTORIES: Partial<Record<Family, Factory>> = {
  // Flash to factory with the image in the primary slot, left powered off.
  "sim-nor": family(
    (ctx) => new SimNorDevice(ctx),
    (dev) => new SimNorInspect(dev),
    (dev) => ({
      states: ["off", "app"],
      afterFactory: "off",
      restores: ["flash"],
      factoryReset: (opts) => factoryResetSimNor(dev, opts.image),
    }),
  ),
  // Flash erased, the image programmed as over SWD, powered on and booted.
  nrf52840: family(
    (ctx) => new Nrf52840McubootDevice(ctx),
    (dev) => new Nrf52840Inspect(dev),
    (dev) => ({
      states: ["off", "app"],
      afterFactory: "app",
      restores: ["flash"],
      factoryReset: (opts) => factoryResetNrf52840(dev, opts.image),
    }),
  ),
  stm32l432: family((ctx) => stm32(ctx, "stm32l432"), stm32Inspect, stm32Strategy),
  stm32wb55: family((ctx) => stm32(ctx, "stm32wb55"), stm32Inspect, stm32Strategy),
  tkey: family(
    (ctx) => new TKeyDevice(ctx),
    (dev) => new TKeyInspect(dev),
  ),
};

/** One chip model, its ROM interfaces attached side by side (USB DFU here; USART beside it). */
function stm32(ctx: EmulatorContext, family: "stm32l432" | "stm32wb55"): Stm32Device {
  const device = new Stm32Device({ ...ctx, family });
  device.usb(); // attached now, so the port follows every mode change from the first boot
  return device;
}

function stm32Inspect(dev: Stm32Device): Inspect {
  return new Stm32Inspect(dev);
}

/** Memories to factory (flash, OTP, option bytes, FUS), then the ROM bootloader. */
function stm32Strategy(dev: Stm32Device): EmulatedStrategyParts {
  return {
    states: STM32_STATES,
    afterFactory: "rom-dfu",
    restores: ["flash", "otp", "option-bytes", "fus"],
    factoryReset: (opts) => factoryResetStm32(dev, opts),
  };
}

/** An STM32 board's memory map: its emulator's profile (the rig file may pick one), else the family's. */
export function stm32ProfileOf(family: Family, device: EmulatedDevice | undefined): Stm32Profile {
  return device instanceof Stm32Device ? device.profile : profileForFamily(family);
}

export function emulatedFamilies(): Family[] {
  return Object.keys(FACTORIES) as Family[];
}

/** An emulated board of `family`: its device, inspect view and strategy, bound together. */
export function createEmulatedBoard(family: Family, ctx: EmulatorContext): EmulatedBoardParts {
  const factory = FACTORIES[family];
  if (!factory)
    throw new Error(
      `no emulator for family '${family}' yet (emulated families: ${emulatedFamilies().join(", ")})`,
    );
  return factory(ctx);
}

export function createEmulator(family: Family, ctx: EmulatorContext): EmulatedDevice {
  return createEmulatedBoard(family, ctx).device;
}
