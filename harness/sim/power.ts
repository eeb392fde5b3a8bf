import type { Clock } from "../seams/clock.js";
import type { PowerControl, PowerState } from "../seams/controls.js";
import { type ErrorCategory, HilError } from "../seams/errors.js";
import { BoundedLog } from "./bounded-log.js";
import type { Flash } from "./flash.js";

export interface PowerEvent {
  t: number;
  event: "on" | "off" | "lost" | "reset";
  reason?: string;
}

/** Thrown into device work that was in flight when power went away. */
export class PowerLostError extends HilError {
  static override readonly category: ErrorCategory = "harness";
  constructor(readonly epoch: number) {
    super(`power lost (power-on epoch ${epoch} ended)`);
    this.name = "PowerLostError";
  }
}

export interface PowerHooks {
  /** Power went away (or a reset pulled the core down): drop RAM, abort in-flight work, drop USB/serial links. Must not throw. */
  lost(reason: string, event: "off" | "lost" | "reset"): void;
  /** Power came back: run the boot sequence (ROM, bootloader resume, application). */
  boot(): Promise<void>;
}

/** The most power events a board keeps (a cut sweep logs two per cut); past it the oldest half goes. */
export const MAX_POWER_EVENTS = 10_000;

/**
 * Power for an emulated board: the `emulated` PowerControl backend. Each power-on starts a
 * new epoch; device work captures the epoch when it starts and checks it after every
 * await (`assertEpoch`), so nothing from before a cut survives into the next boot.
 */
export class SimPower implements PowerControl {
  readonly backend = "emulated";
  #on = false;
  #epoch = 0;
  readonly #history = new BoundedLog<PowerEvent>(MAX_POWER_EVENTS);

  constructor(
    readonly clock: Clock,
    readonly flashes: readonly Flash[],
    readonly hooks: PowerHooks,
    /** Time the supply takes to fall/rise, from the device's timing table. */
    readonly defaultOffMs = 100,
  ) {
    for (const f of flashes) f.setPowered(false);
  }

  get isOn(): boolean {
    return this.#on;
  }

  /** Increments on every power-on; 0 before the first. */
  get epoch(): number {
    return this.#epoch;
  }

  /** On/off/lost/reset events with device time, for the state timeline in reports (the newest kept). */
  get history(): readonly PowerEvent[] {
    return this.#history.items;
  }

  /** How many power events were ever logged: a mark for {@link historySince} that survives dropping. */
  get historyCount(): number {
    return this.#history.count;
  }

  /** The power events since `mark` (an earlier historyCount) that are still kept. */
  historySince(mark: number): readonly PowerEvent[] {
    return this.#history.since(mark).items;
  }

  assertEpoch(epoch: number): void {
    if (!this.#on || epoch !== this.#epoch) throw new PowerLostError(epoch);
  }

  async on(): Promise<void> {
    if (this.#on) return;
    this.#on = true;
    this.#epoch++;
    this.#history.push({ t: this.clock.now(), event: "on" });
    for (const f of this.flashes) f.setPowered(true);
    await this.hooks.boot();
  }

  async off(): Promise<void> {
    this.#drop("off", "power off");
  }

  /** Power vanished under the device (a fault, a flash PowerCutError): same as off, logged as lost. */
  lose(reason: string): void {
    this.#drop("lost", reason);
  }

  /**
   * A reset (NRST, NVIC_SystemReset, option-byte reload): the core stops and boots again,
   * RAM and in-flight work are lost like on a power cut, but the rail stays up. Logged as
   * a reset so a timeline does not show a power cut that never happened.
   */
  async reset(reason: string): Promise<void> {
    if (!this.#on) return;
    this.#drop("reset", reason);
    await this.on();
  }

  async cycle(offMs = this.defaultOffMs): Promise<void> {
    await this.off();
    await this.clock.sleep(offMs);
    await this.on();
  }

  async state(): Promise<PowerState> {
    return this.#on ? "on" : "off";
  }

  #drop(event: "off" | "lost" | "reset", reason: string): void {
    if (!this.#on) return;
    this.#on = false;
    this.#history.push({ t: this.clock.now(), event, reason });
    for (const f of this.flashes) f.setPowered(false);
    this.hooks.lost(reason, event);
  }
}
