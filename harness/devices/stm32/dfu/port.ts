/**
 * The USB port of an emulated STM32: follows the chip's mode and puts the right USB
 * function on the bus. Bootloader → the ROM DFU device after the USB connect time of the
 * timing table; application → the app's device; off, halted or reset → nothing. Every
 * enumeration gets a new address and a new device object; the old one is dead for good.
 */
import type { DeviceChange, UsbDevice } from "../../../transport/usb.js";
import { Misbehaviour, misbehaveOf } from "../../misbehave.js";
import type { Stm32Device, Stm32Mode } from "../device.js";
import { AppUsbFunction, type AppUsbOptions, DEFAULT_APP_USB } from "./app-usb.js";
import type { UsbAttachment } from "./bus.js";
import { MisbehavingUsbFunction } from "./misbehaving-usb.js";
import { type DfuQuirks, RomDfu, type RomDfuPort } from "./rom-dfu.js";
import { DFU_TIMING, type DfuTiming } from "./timing.js";
import { EmulatedUsbDevice, type UsbFunction, UsbLink } from "./usb-device.js";

export interface UsbPortOptions {
  app?: Partial<AppUsbOptions>;
  quirks?: Partial<DfuQuirks>;
  timing?: Partial<DfuTiming>;
}

export class Stm32UsbPort implements UsbAttachment, RomDfuPort {
  readonly timing: DfuTiming;
  readonly quirks: DfuQuirks;
  readonly app: AppUsbOptions;
  #device: EmulatedUsbDevice | undefined;
  #rom: RomDfu | undefined;
  #address = 0;
  /** The `misbehave` personality of the ROM's replies; one engine for the port's life. */
  readonly #misbehave: Misbehaviour | undefined;
  /** Bumped on every mode change and disconnect, so a scheduled enumeration from before is dropped. */
  #generation = 0;
  readonly #listeners = new Set<(change: DeviceChange) => void>();

  constructor(
    readonly chip: Stm32Device,
    opts: UsbPortOptions = {},
  ) {
    this.timing = { ...DFU_TIMING, ...opts.timing };
    this.quirks = { l4EraseStall: false, startInError: false, ...opts.quirks };
    this.app = { ...DEFAULT_APP_USB, ...opts.app };
    const misbehave = misbehaveOf(chip.options);
    this.#misbehave = misbehave && new Misbehaviour(misbehave, "usb dfu");
    chip.onModeChange((mode) => this.#follow(mode));
  }

  current(): UsbDevice | undefined {
    return this.#device;
  }

  /** The ROM DFU function of the current bootloader enumeration (tests and suites inspect its state). */
  get rom(): RomDfu | undefined {
    return this.#rom;
  }

  onChange(listener: (change: DeviceChange) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  disconnect(reason: string): void {
    this.#generation++;
    const gone = this.#device;
    if (!gone) return;
    this.#device = undefined;
    this.#rom = undefined;
    gone.link.drop();
    this.chip.log("usb", `disconnect: ${reason}`);
    for (const l of this.#listeners) l({ type: "disconnect", device: gone });
  }

  replug(reason: string): void {
    this.disconnect(reason);
    this.#follow(this.chip.mode);
  }

  #follow(mode: Stm32Mode): void {
    this.disconnect(`mode ${mode.kind}`);
    if (mode.kind === "bootloader") {
      this.#later(this.chip.profile.timing.usbConnectMs, () => {
        const rom = new RomDfu(this.chip, this, this.timing, this.quirks);
        this.#connect(this.#misbehave ? this.#misbehaving(rom, this.#misbehave) : rom);
        this.#rom = rom;
      });
    } else if (mode.kind === "application") {
      this.#later(this.timing.appUsbConnectMs, () =>
        this.#connect(new AppUsbFunction(this.chip, this.app, mode.entry)),
      );
    }
  }

  #misbehaving(rom: RomDfu, engine: Misbehaviour): UsbFunction {
    const chip = this.chip;
    return new MisbehavingUsbFunction(rom, engine, {
      clock: chip.clock,
      log: (kind, detail) => chip.log(kind, detail),
      reset: (reason) => void chip.reset(reason),
    });
  }

  #later(ms: number, connect: () => void): void {
    const generation = this.#generation;
    const epoch = this.chip.power.epoch;
    void this.chip.clock.sleep(ms).then(() => {
      if (generation === this.#generation && epoch === this.chip.power.epoch && this.chip.power.isOn)
        connect();
    });
  }

  #connect(fn: UsbFunction): void {
    this.#address = (this.#address % 127) + 1;
    const device = new EmulatedUsbDevice(
      fn,
      new UsbLink(this.#address, `emulated-${this.chip.serial}`),
      this.chip.clock,
    );
    this.#device = device;
    const id = fn.identity;
    this.chip.log(
      "usb",
      `enumerated ${id.vendorId.toString(16).padStart(4, "0")}:${id.productId.toString(16).padStart(4, "0")} "${id.product}" address ${this.#address}`,
    );
    for (const l of this.#listeners) l({ type: "connect", device });
  }
}
