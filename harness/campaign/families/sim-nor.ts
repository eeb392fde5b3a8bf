/**
 * The synthetic A/B board (sim-nor): stage the new image in the secondary slot, request the
 * install, power-cycle (the boot swaps it in through the scratch sector, logging each step).
 * Recovery is the one the design gives it: power on, the next boot resumes the swap.
 * The board has no host protocol: its updater runs inside, so a power cut ends a staging
 * with the emulator's power-loss error, which is the expected end here, not a harness fault.
 */
import { buildSimNorImage } from "../../devices/registry.js";
import type { Board } from "../../rig/board.js";
import { inspectIf } from "../../rig/require-inspect.js";
import { bytesEqual } from "../../seams/bytes.js";
import { Random } from "../../sim/random.js";
import type { CampaignFamily } from "../ids.js";
import type { FaultMenu } from "../plan.js";
import type { FamilyScenario, RunContext } from "../scenario.js";

export const SIM_NOR_MENU: FaultMenu = {
  flash: ["power-cut", "power-cut-torn", "flash-fail", "bit-flip"],
  events: {},
  time: [],
};

/** The device's own power-loss errors: how an in-device updater ends when the power goes. */
class PowerLossEnd extends Error {
  readonly category = "device";
  override name = "PowerLossEnd";
}

const POWER_LOSS = new Set(["PowerLostError", "PowerCutError", "FlashUnpoweredError"]);

export async function simNorScenario(
  board: Board,
  id: CampaignFamily = board.family,
): Promise<FamilyScenario> {
  const dev = inspectIf(board, "sim-nor");
  if (!dev) throw new Error(`board ${board.id}: a sim-nor campaign needs the emulated board`);
  const r = new Random(board.seed).fork("campaign images");
  const payload = (n: number) => Uint8Array.from({ length: n }, () => r.byte());
  const images = new Map<number, Uint8Array>([
    [1, buildSimNorImage(1, payload(5000))],
    [2, buildSimNorImage(2, payload(7000))],
    [3, buildSimNorImage(3, payload(6000))],
  ]);
  await board.strategy.factoryReset({ image: images.get(1)! });
  await board.power.on();
  await board.power.off();
  const start = dev.flash.snapshot();
  /** In-device work: a power loss ends it as a device event. */
  const inside = async (work: () => Promise<void>) => {
    try {
      await work();
    } catch (e) {
      if (e instanceof Error && POWER_LOSS.has(e.name)) throw new PowerLossEnd(e.message);
      throw e;
    }
  };
  const install = async (version: number) => {
    await inside(() => dev.stage(images.get(version)!));
    await inside(() => dev.requestInstall());
    await board.power.cycle();
    if (dev.state !== "running") throw new PowerLossEnd(`after the install the board is ${dev.state}`);
  };
  const up = async () => {
    if (dev.state === "off") await board.power.on();
    if (dev.state !== "running") await board.power.cycle();
  };
  const checkRunning = (ctx: RunContext, when: string) => {
    if (dev.state !== "running") return;
    const v = dev.runningVersion;
    const image = v === undefined ? undefined : images.get(v);
    if (!image || !bytesEqual(dev.slot("primary", image.length), image))
      ctx.violate(
        "old-or-new",
        `${when}: the board runs ${v ?? "nothing"}, not a whole known image in the primary slot`,
      );
    else if (v !== 1 && v !== 2) ctx.violate("old-or-new", `${when}: the board runs version ${v}`);
  };

  return {
    family: id,
    menu: SIM_NOR_MENU,
    flash: dev.flash,
    async restore() {
      await board.power.off();
      dev.flash.restore(start);
      await board.power.on();
    },
    async update() {
      await install(2);
    },
    async recover(ctx) {
      await up();
      checkRunning(ctx, "after the update");
      if (dev.runningVersion !== 2) await install(2);
    },
    async check(ctx) {
      await board.power.cycle();
      checkRunning(ctx, "after recovery and a power cycle");
    },
    async cleanUpdate() {
      await up();
      await install(3);
      if (dev.runningVersion !== 3 || !bytesEqual(dev.slot("primary", images.get(3)!.length), images.get(3)!))
        throw new Error(`after the clean install the board runs ${dev.runningVersion ?? "nothing"}`);
    },
  };
}
