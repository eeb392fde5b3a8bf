/**
 * The control seams a rig hands to suites: power, boot mode, reset. Backends (emulated,
 * uhubctl, scpi, relay, gpio, command, manual) implement them side by side; nothing above
 * the rig knows which one it holds.
 */
export type PowerState = "on" | "off" | "unknown";

export interface PowerControl {
  /** Backend name as written in the rig file, for reports ("emulated", "uhubctl", ...). */
  readonly backend: string;
  on(): Promise<void>;
  off(): Promise<void>;
  /** Off, wait `offMs` on the rig's clock, on. */
  cycle(offMs?: number): Promise<void>;
  /** Read back from the backend where it can; "unknown" where it cannot. */
  state(): Promise<PowerState>;
}

export interface BootControl {
  readonly backend: string;
  /** Arrange for the next reset/power-on to start the ROM bootloader (BOOT0 high, enter-DFU APDU, ...). */
  bootloader(): Promise<void>;
  /** Arrange for the next reset/power-on to start the application. */
  application(): Promise<void>;
}

export interface ResetControl {
  readonly backend: string;
  reset(): Promise<void>;
}
