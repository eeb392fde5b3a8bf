import { parseImage } from "../../protocol/mcuboot/index.js";
import { bytesEqual } from "../../seams/bytes.js";
import type { BoardState, FactoryOptions, Restorable } from "../../seams/strategy.js";
import type { Board } from "../board.js";
import { SmpLink } from "../smp-link.js";
import { ControlsStrategy, type StrategyBoard } from "./controls.js";

const STATES: readonly BoardState[] = ["off", "app"];

/**
 * A lab nRF52840 reached over SMP only: a pending or unconfirmed state is settled, then
 * unless the image already runs it is uploaded, confirmed and booted; the secondary slot
 * is erased. Without an image, a power cycle.
 */
export class LabNrf52840Strategy extends ControlsStrategy {
  readonly states = STATES;
  readonly afterFactory = "app";
  readonly restores: readonly Restorable[] = [];
  readonly limits = [
    "lab: factoryReset goes over SMP; a board whose application does not answer cannot be reset",
  ];

  on(board: StrategyBoard): LabNrf52840Strategy {
    return new LabNrf52840Strategy(board);
  }

  async factoryReset(opts: FactoryOptions = {}): Promise<void> {
    if (!opts.image) return this.board.power.cycle();
    const link = await SmpLink.connect(this.board as Board);
    try {
      await settle(link, opts.image, this.board.id);
    } finally {
      await link.close();
    }
  }
}

async function settle(link: SmpLink, image: Uint8Array, id: string): Promise<void> {
  let list = await link.client.list();
  if (list.some((i) => i.active && !i.confirmed)) list = await link.client.confirm();
  const want = parseImage(image).hash!;
  const active = list.find((i) => i.active);
  if (!active?.hash || !bytesEqual(active.hash, want)) {
    if (list.some((i) => !i.active)) await link.client.erase();
    await link.client.upload(image);
    await link.client.confirm(want);
    await link.reset();
    list = await link.client.list();
    const now = list.find((i) => i.active);
    if (!now?.hash || !bytesEqual(now.hash, want))
      throw new Error(`board ${id}: the factory image does not run after the swap`);
    if (!now.confirmed) throw new Error(`board ${id}: the factory image is not confirmed`);
  }
  if (list.some((i) => !i.active)) await link.client.erase();
}
