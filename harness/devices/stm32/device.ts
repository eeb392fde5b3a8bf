import type { Flash } from "../../sim/flash.js";
import { EmulatedDevice, type EmulatorContext } from "../emulated-device.js";
import { Stm32Chip } from "./chip.js";
import { attachUsbDfu, type Stm32UsbPort, usbOptionsFromContext, usbPortOf } from "./dfu/index.js";
import { Cpu2, factoryFusVersion, stSignatureMode } from "./fus/cpu2.js";
import { profileByName, profileForFamily, type Stm32Profile } from "./profiles.js";
import { fusTimingOverlay, withTimingOverlay } from "./timing-overlay.js";
import { connectUsart } from "./usart/port.js";

/** What the core is running. */
export type Stm32Mode =
  | { kind: "off" }
  | { kind: "bootloader" }
  | { kind: "application"; entry: number; sp: number; pc: number }
  /** Jumped to something that is no program (blank flash, bad vector table): the core is stuck in a fault. */
  | { kind: "halted"; reason: string };

export type ModeListener = (mode: Stm32Mode, previous: Stm32Mode) => void;

/** What the core runs, as {@link Stm32Device.state} names it; `mode` has the details. */
export type Stm32State = Stm32Mode["kind"];

/**
 * One emulated STM32 (L432KC or WB55): the chip's memories, the BOOT0 pin, the boot
 * decision after every reset, and the mode changes its ROM interfaces follow. The USB DFU
 * and USART personalities attach through `onModeChange` (enumerate, drop off the bus,
 * resync) and call `systemReset` / `go` as the ROM commands demand. The host reaches them
 * through `usb()` and `port("usart")`.
 */
export class Stm32Device extends EmulatedDevice<Stm32State> {
  readonly family: "stm32l432" | "stm32wb55";
  readonly profile: Stm32Profile;
  readonly chip: Stm32Chip;
  readonly serial: string;
  /** The rig's emulator options, for the ROM personalities (USART quirks, ...). */
  override readonly options: Readonly<Record<string, unknown>>;
  /** BOOT0 pin level; high selects the system memory when nSWBOOT0 = 1. */
  boot0: boolean;
  /** WB55: CPU2 running FUS or a wireless stack (AN5185); undefined on parts without one. */
  readonly fus: Cpu2 | undefined;
  #mode: Stm32Mode = { kind: "off" };
  readonly #listeners = new Set<ModeListener>();

  constructor(ctx: EmulatorContext & { family?: string }) {
    const profile = withTimingOverlay(
      ctx.profile ? profileByName(ctx.profile) : profileForFamily(ctx.family ?? "stm32l432"),
      ctx.options?.timing,
    );
    const chip = new Stm32Chip(profile, ctx.seed);
    super(ctx, [chip.flash, chip.otp]);
    // Each call a fresh line to the USART bootloader, replacing the one before (an adapter replugged).
    this.definePort("usart", (opts) => connectUsart(this, opts));
    this.profile = profile;
    this.family = profile.family;
    this.chip = chip;
    this.serial = ctx.serial ?? defaultSerial(profile, ctx.seed);
    // Emulated boards start in the ROM bootloader unless the rig asks for the application.
    this.boot0 = ctx.options?.boot !== "app";
    this.options = { ...ctx.options };
    this.fus =
      profile.family === "stm32wb55"
        ? new Cpu2(this, {
            timing: fusTimingOverlay(profile, ctx.options?.timing),
            factoryStack: ctx.options?.fusFactoryStack !== false,
            fusVersion: factoryFusVersion(ctx.options),
            stSignature: stSignatureMode(ctx.options),
            startHalfInstalledStack: ctx.options?.fusStartHalfInstalledStack === true,
          })
        : undefined;
  }

  override identity(): Record<string, string> {
    const id = this.profile.bootloaderId;
    return {
      bootloader: `V${id >> 4}.${id & 0xf} (0x${id.toString(16)})`,
      pid: `0x${this.profile.pid.toString(16)}`,
      profile: this.profile.name,
    };
  }

  /** The main flash (chip.flash; `flashes` also has the OTP area). */
  get flash(): Flash {
    return this.chip.flash;
  }

  get state(): Stm32State {
    return this.#mode.kind;
  }

  /** What the core runs, with the entry point or the halt reason; {@link state} is its kind. */
  get mode(): Stm32Mode {
    return this.#mode;
  }

  /**
   * The USB port with the ROM's DFU interface and the application's device on it (a rig
   * attaches it when it builds the board; otherwise the first call attaches it with the
   * board's options).
   */
  usb(): Stm32UsbPort {
    return usbPortOf(this) ?? attachUsbDfu(this, usbOptionsFromContext(this.options));
  }

  /** Like {@link onState}, with the details of each mode (entry point, halt reason). */
  onModeChange(listener: ModeListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  override async selectBoot(mode: "bootloader" | "application"): Promise<void> {
    this.boot0 = mode === "bootloader";
    this.log("boot", `BOOT0 ${this.boot0 ? "high" : "low"}`);
  }

  /**
   * System reset (NVIC_SystemReset / OBL_LAUNCH after an option-byte or protection change):
   * RAM contents lost to the program, option bytes reloaded, boot decided again.
   */
  async systemReset(reason: string): Promise<void> {
    await this.reset(reason);
  }

  /** The Go command / DfuSe leave: start the program whose vector table is at `address`. */
  go(address: number): Stm32Mode {
    const vt = this.chip.vectorTable(address);
    const mode: Stm32Mode = vt
      ? { kind: "application", entry: address, ...vt }
      : { kind: "halted", reason: `no valid vector table at 0x${address.toString(16)}` };
    this.#setMode(mode);
    return mode;
  }

  /** Where the boot pins and option bytes send the core after reset (RM0394/RM0434 boot configuration). */
  bootTarget(): "flash" | "system" | "sram" {
    const ob = this.chip.optionBytes;
    if (ob.rdpLevel === 2) return "flash"; // level 2: boot from flash only, debug and ROM locked out
    const boot0 = ob.nSwBoot0 ? this.boot0 : !ob.nBoot0;
    if (!boot0) {
      // Empty-flash check (Pattern 16): a blank first word boots the ROM instead.
      const first = this.chip.flash.peek(this.profile.flash.base, 4);
      return first.every((b) => b === 0xff) ? "system" : "flash";
    }
    return ob.nBoot1 ? "system" : "sram";
  }

  protected override async boot(): Promise<void> {
    const epoch = this.power.epoch;
    this.chip.optionBytes.reload();
    this.fus?.onBoot();
    await this.busy(epoch, this.profile.timing.bootloaderStartMs);
    const target = this.bootTarget();
    this.log("boot", `boot from ${target} (RDP level ${this.chip.rdpLevel})`);
    if (target === "system") this.#setMode({ kind: "bootloader" });
    else if (target === "flash") this.go(this.profile.flash.base);
    else this.#setMode({ kind: "halted", reason: "boot from SRAM: nothing loaded" });
  }

  protected override onPowerLost(): void {
    this.chip.sram.fill(0);
    this.fus?.onPowerLost();
    this.#setMode({ kind: "off" });
  }

  #setMode(mode: Stm32Mode): void {
    const previous = this.#mode;
    this.#mode = mode;
    this.log("state", describeMode(mode));
    for (const l of this.#listeners) l(mode, previous);
    this.noteState();
  }
}

export function describeMode(mode: Stm32Mode): string {
  switch (mode.kind) {
    case "application":
      return `application at 0x${mode.entry.toString(16)}`;
    case "halted":
      return `halted: ${mode.reason}`;
    default:
      return mode.kind;
  }
}

/** A 12-hex-digit USB serial, as the ROM derives it from the unique device ID; stable per seed. */
function defaultSerial(profile: Stm32Profile, seed: number): string {
  const n = (Math.imul(seed ^ profile.pid, 0x9e3779b1) >>> 0).toString(16).toUpperCase().padStart(8, "0");
  return `${(profile.pid & 0xfff).toString(16).toUpperCase().padStart(4, "0")}${n}`;
}
