import type { SimNorDevice } from "../../devices/sim-nor/device.js";
import { factoryResetSimNor } from "../../devices/sim-nor/strategy.js";
import type { BoardState, FactoryOptions, Restorable } from "../../seams/strategy.js";
import { closeTKeyLink } from "../tkey-link.js";
import { ControlsStrategy, type StrategyBoard } from "./controls.js";

/** A TKey, emulated or lab: unplug and replug is its whole factory reset (the app lives in RAM). */
export class TKeyStrategy extends ControlsStrategy {
  readonly states: readonly BoardState[] = ["off", "firmware"];
  readonly afterFactory = "firmware";
  readonly restores: readonly Restorable[] = [];
  readonly limits: readonly string[] = [];

  on(board: StrategyBoard): TKeyStrategy {
    return new TKeyStrategy(board);
  }

  /** A lab TKey's port goes with the unplug: it is closed first, not left locked. */
  override async transition(to: BoardState): Promise<void> {
    await closeTKeyLink(this.board.id);
    return super.transition(to);
  }

  factoryReset(): Promise<void> {
    return this.transition("firmware");
  }
}

/** The emulated sim-nor board: flash to factory with the image in the primary slot, left powered off. */
export class EmulatedSimNorStrategy extends ControlsStrategy {
  readonly states: readonly BoardState[] = ["off", "app"];
  readonly afterFactory = "off";
  readonly restores: readonly Restorable[] = ["flash"];
  readonly limits: readonly string[] = [];

  constructor(
    board: StrategyBoard,
    private readonly dev: SimNorDevice,
  ) {
    super(board);
  }

  on(board: StrategyBoard): EmulatedSimNorStrategy {
    return new EmulatedSimNorStrategy(board, this.dev);
  }

  factoryReset(opts: FactoryOptions = {}): Promise<void> {
    return factoryResetSimNor(this.dev, opts.image);
  }
}

/** A lab board of a family without a lab strategy of its own: power only. */
export class PowerOnlyStrategy extends ControlsStrategy {
  readonly states: readonly BoardState[] = ["off", "app"];
  readonly afterFactory = "app";
  readonly restores: readonly Restorable[] = [];
  readonly limits = ["lab: factoryReset is a power cycle; memories are not restored"];

  on(board: StrategyBoard): PowerOnlyStrategy {
    return new PowerOnlyStrategy(board);
  }

  factoryReset(): Promise<void> {
    return this.board.power.cycle();
  }
}
