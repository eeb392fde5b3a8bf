import type { Board, Capability, Family } from "../../harness/rig/board.js";
import { strategyFor } from "../../harness/rig/strategies/index.js";
import type { PowerControl, PowerState } from "../../harness/seams/controls.js";
import { WallClock } from "../../harness/transport/clock.js";

/** A power control that only remembers its state. */
export class FakePower implements PowerControl {
  readonly backend: string;
  #state: PowerState = "on";

  constructor(backend = "fake") {
    this.backend = backend;
  }

  async on(): Promise<void> {
    this.#state = "on";
  }

  async off(): Promise<void> {
    this.#state = "off";
  }

  async cycle(): Promise<void> {
    await this.off();
    await this.on();
  }

  async state(): Promise<PowerState> {
    return this.#state;
  }
}

export interface FakeBoardOptions {
  readonly id: string;
  readonly family: Family;
  readonly capabilities?: readonly Capability[];
  readonly serial?: string;
  readonly emulated?: boolean;
  readonly info?: Record<string, string>;
  readonly powerBackend?: string;
}

/** A plain Board for selection and label tests: no device behind it. */
export function fakeBoard(options: FakeBoardOptions): Board {
  const board: Omit<Board, "strategy"> = {
    id: options.id,
    family: options.family,
    serial: options.serial,
    capabilities: new Set(options.capabilities ?? []),
    emulated: options.emulated ?? true,
    clock: new WallClock(),
    power: new FakePower(options.powerBackend),
    boot: undefined,
    reset: undefined,
    info: options.info ?? {},
    emulator: undefined,
    seed: 0,
  };
  return { ...board, strategy: strategyFor(board) };
}
