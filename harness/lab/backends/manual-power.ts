import { createInterface } from "node:readline/promises";
import type { PowerControl, PowerState } from "../../seams/controls.js";
import type { Clock } from "../../transport/clock.js";
import { SkipScenario } from "../errors.js";
import { cycleOffOn } from "./power-cycle.js";

/** True when nobody can answer a prompt: CI, or no terminal on stdin. */
export function unattended(): boolean {
  return Boolean(process.env.CI) || !process.stdin.isTTY;
}

/**
 * `manual` power backend: asks the person at the bench to switch power and press Enter.
 * Unattended (CI, nightly, no TTY) every call skips the scenario with the reason.
 */
export class ManualPower implements PowerControl {
  readonly backend = "manual";
  #state: PowerState = "unknown";

  constructor(
    private readonly boardId: string,
    private readonly clock: Clock,
    private readonly powerOffMs: number,
    private readonly prompt = "Switch power of board {board} {state}, then press Enter",
  ) {}

  async on(): Promise<void> {
    await this.#ask("ON");
    this.#state = "on";
  }

  async off(): Promise<void> {
    await this.#ask("OFF");
    this.#state = "off";
  }

  cycle(offMs = this.powerOffMs): Promise<void> {
    return cycleOffOn(this, this.clock, offMs);
  }

  async state(): Promise<PowerState> {
    return this.#state;
  }

  async #ask(state: string): Promise<void> {
    if (unattended())
      throw new SkipScenario(`board ${this.boardId} has a manual power backend and this run is unattended`);
    const rl = createInterface({ input: process.stdin, output: process.stderr });
    try {
      await rl.question(`${this.prompt.replaceAll("{board}", this.boardId).replaceAll("{state}", state)} `);
    } finally {
      rl.close();
    }
  }
}
