/**
 * The power signals of a running `hil emulate` (SIGHUP a power cycle, SIGUSR1 off, SIGUSR2
 * on), applied one transition at a time. A rack's relay script sends bursts: a signal that
 * arrives during a transition waits for its end, and of the signals waiting only the last
 * counts, so the board ends in the state the last signal asks for (a burst of replugs is
 * one more replug).
 *
 * A transition is the rail going down, staying down for the board's off time, and coming
 * up. The boot that follows is the board running: the next signal may cut it, as a relay
 * cuts a board mid-boot or mid-swap.
 *
 * One line per signal and one when all is done ("power is on" once the boot after the last
 * power-on ended), on the `say` channel (stderr), so an operator or a test can follow it.
 */
import type { EmulatedDevice } from "../devices/emulated-device.js";

export type PowerRequest = "cycle" | "off" | "on";

export const POWER_SIGNALS: Readonly<Record<"SIGHUP" | "SIGUSR1" | "SIGUSR2", PowerRequest>> = {
  SIGHUP: "cycle",
  SIGUSR1: "off",
  SIGUSR2: "on",
};

const WHAT: Readonly<Record<PowerRequest, string>> = {
  cycle: "power cycle",
  off: "power off",
  on: "power on",
};

export interface PowerSignalHooks {
  /** After a boot this queue started, if the board is still on (the TKey's port is plugged again). */
  booted?: () => void;
  /** One line for the operator. */
  say: (line: string) => void;
}

export class PowerSignals {
  #pending: PowerRequest | undefined;
  #draining: Promise<void> | undefined;
  /** The boot after the last power-on (and its `booted` hook), until it ends or is cut. */
  #booting: Promise<void> = Promise.resolve();

  constructor(
    readonly device: EmulatedDevice,
    readonly hooks: PowerSignalHooks,
  ) {}

  /** Asks for a transition; it runs when the one under way ends, replacing any still waiting. */
  request(request: PowerRequest, signal: string): void {
    const busy = this.#draining !== undefined;
    this.hooks.say(`${signal}: ${WHAT[request]}${busy ? ", after the transition under way" : ""}`);
    this.#pending = request;
    this.#draining ??= this.#drain();
  }

  /** Resolves when no transition runs or waits and the last boot ended. */
  async idle(): Promise<void> {
    for (;;) {
      const draining = this.#draining;
      if (draining) await draining;
      await this.#booting;
      if (!this.#draining) return;
    }
  }

  async #drain(): Promise<void> {
    while (this.#pending) {
      const request = this.#pending;
      this.#pending = undefined;
      await this.#apply(request).catch((e: Error) => this.hooks.say(`${WHAT[request]} failed: ${e.message}`));
    }
    this.#draining = undefined;
    await this.#booting;
    // A signal that came during the boot started a new drain, which will say how it ends.
    if (!this.#draining) this.hooks.say(`power is ${this.device.power.isOn ? "on" : "off"}`);
  }

  async #apply(request: PowerRequest): Promise<void> {
    const power = this.device.power;
    if (request !== "on") await power.off();
    if (request === "off") return;
    if (request === "cycle") await this.device.clock.sleep(power.defaultOffMs);
    if (power.isOn) return;
    const boot = power.on(); // the rail is up once on() returns its promise; the boot runs on
    const epoch = power.epoch;
    this.#booting = boot
      .then(() => {
        if (power.isOn && power.epoch === epoch) this.hooks.booted?.();
      })
      .catch((e: Error) => this.hooks.say(`power-on failed: ${e.message}`));
  }
}
