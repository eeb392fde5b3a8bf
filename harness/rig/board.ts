import type { EmulatedDevice } from "../devices/emulated-device.js";
import type { Inspect } from "../devices/registry.js";
import type { BoardLocator } from "../lab/locate.js";
import type { BootControl, PowerControl, ResetControl } from "../seams/controls.js";
import type { Capability, Family } from "../seams/family.js";
import type { Strategy } from "../seams/strategy.js";
import type { Clock } from "../transport/clock.js";
import type { Timeouts, UsbipLocation } from "./schema.js";

// Families and capabilities are layer-0 types (devices and reports need them too); re-exported here.
export {
  CAPABILITIES,
  type Capability,
  FAMILIES,
  type Family,
  RIG_FILE_CAPABILITIES,
} from "../seams/family.js";

/** One board as a suite sees it, emulated or on a lab rack. */
export interface Board {
  readonly id: string;
  readonly family: Family;
  /** USB serial number / UDI / board serial when known. */
  readonly serial: string | undefined;
  readonly capabilities: ReadonlySet<Capability>;
  readonly emulated: boolean;
  /** Virtual on emulated boards, wall on lab boards; all waits go through it. */
  readonly clock: Clock;
  readonly power: PowerControl;
  readonly boot: BootControl | undefined;
  /**
   * A lab board without boot control: where it starts on reset and power-up as strapped
   * (rig file `boot: { backend: none, startsIn }`, default `bootloader`). Undefined with boot control.
   */
  readonly startsIn?: "bootloader" | "application";
  readonly reset: ResetControl | undefined;
  /** Versions and identities read from the board or the rig file (bootloader, firmware, ...), for report labels. */
  readonly info: Record<string, string>;
  /**
   * How to bring the board into a state (ROM bootloader, application, off) or back to
   * factory: one implementation per family for emulators and one for lab boards.
   */
  readonly strategy: Strategy;
  /**
   * White-box access (flash, boot state, device log, faults; family extras, told apart by
   * `family`): on every emulated board, which then has the `inspect` capability. Suites
   * that need it declare the capability or call `requireInspect`, and skip with the reason.
   */
  readonly inspect?: Inspect;
  /**
   * The emulator behind an emulated board; undefined on a lab board.
   * @deprecated for suites: use {@link strategy} and {@link inspect}; report and CLI code still read it.
   */
  readonly emulator: EmulatedDevice | undefined;
  /** Seed of the board's emulator (and of any random choice a suite makes for it). */
  readonly seed: number;
  /** A lab board's serial port identity from the rig file (USART bootloader, consoles). */
  readonly serialPort?: {
    byId?: string | undefined;
    usbSerial?: string | undefined;
    /** Served by a rack host: ser2net's telnet(rfc2217) accepter, or a raw TCP port. */
    rfc2217?: string | undefined;
    tcp?: string | undefined;
    baudRate?: number | undefined;
  };
  /**
   * A lab board's devices found again by identity (serial port, USB device), with its
   * timeouts and settle delay: call it after every power cycle, reset or leave; never keep a
   * path or handle across one. Undefined on emulated boards.
   */
  readonly locator?: BoardLocator;
  /** A lab board's USB on another host's USB/IP server (rig file `usb: { usbip, busid }`). */
  readonly usbip?: UsbipLocation;
  /** Where a field of the board is in its rig file (`rigs/lab.yaml:7 boards[0].serial`), when loaded from one. */
  readonly where?: (field: readonly (string | number)[]) => string;
  /**
   * On a lab board's emulated twin: the lab board's id. The twin looks to suites as its lab
   * board does (not `emulated`, the same capabilities, no `inspect`), so it runs the same
   * scenarios, on the emulator behind `emulator` and its virtual clock.
   */
  readonly twinOf?: string;
  /** The board's waits (enumeration, settle, power-off, command), on lab boards. */
  readonly timeouts?: Readonly<Timeouts>;
}
