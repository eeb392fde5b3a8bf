/**
 * The STM32 USART bootloader update (AN3155; stm32flash's order): sync, erase the pages,
 * Write Memory, read back to verify, Go. Recovery is what AN3155 and AN2606 give: power on
 * with BOOT0 low and see what runs; if it is not the new application, BOOT0 high, a power
 * cycle, 0x7F again and the whole update.
 */
import { UsartClient } from "../../clients/stm32-usart/index.js";
import type { Board } from "../../rig/board.js";
import { inspectIf } from "../../rig/require-inspect.js";
import { openUsartLink } from "../../rig/usart-link.js";
import { bytesEqual } from "../../seams/bytes.js";
import type { CampaignFamily } from "../ids.js";
import type { FaultMenu } from "../plan.js";
import type { FamilyScenario, RunContext } from "../scenario.js";
import { appAreaCheck, appImage } from "./stm32-dfu.js";

/** Bound on any one client operation, device time: the client's byte and erase timeouts end far sooner. */
const OP_LIMIT_MS = 120_000;

export const USART_MENU: FaultMenu = {
  flash: ["power-cut", "power-cut-torn", "flash-fail", "bit-flip"],
  events: {
    "usart.command": ["power-cut", "serial-drop", "serial-corrupt"],
    "usart.write": ["power-cut", "serial-drop", "serial-corrupt"],
  },
  time: ["power-cut"],
};

export async function stm32UsartScenario(board: Board, id: CampaignFamily): Promise<FamilyScenario> {
  const view = inspectIf(board, "stm32");
  if (!view || !board.boot) throw new Error(`board ${board.id}: a USART campaign needs an emulated STM32`);
  const boot = board.boot;
  const p = view.profile;
  const size = 3 * p.flash.pageSize + 1024;
  const base = p.flash.base;
  const flash = view.chip.flash;
  const v1 = appImage(p, size, "campaign-usart-v1", board.seed);
  const v2 = appImage(p, size, "campaign-usart-v2", board.seed);
  const pages = Array.from({ length: Math.ceil(size / p.flash.pageSize) }, (_, i) => i);
  await board.strategy.factoryReset({ image: v1 });
  const start = flash.snapshot();
  const link = await openUsartLink(board);
  const checkPages = appAreaCheck(flash, base, v1, v2, 256);
  const holdsNew = () => bytesEqual(flash.peek(base, size), v2);

  /** A new client per session (its transcript is the session's): sync, erase, write, verify, Go. */
  const update = async (ctx: RunContext) => {
    const client = new UsartClient(link, { clock: board.clock });
    ctx.record("usart", client.transcript);
    await ctx.op("sync", OP_LIMIT_MS, () => client.recover());
    await ctx.op("erase", OP_LIMIT_MS, () => client.erasePages(pages));
    await ctx.op("write", OP_LIMIT_MS, () => client.write(base, v2));
    const back = await ctx.op("read back", OP_LIMIT_MS, () => client.read(base, size));
    if (!bytesEqual(back, v2)) throw new VerifyError("read back differs from the image written");
    await ctx.op("go", OP_LIMIT_MS, () => client.go(base));
  };
  const powerOnAsProduct = async () => {
    await board.power.off();
    await boot.application();
    await board.power.on();
  };
  const intoBootloader = async () => {
    await boot.bootloader();
    await board.power.cycle();
  };

  return {
    family: id,
    menu: USART_MENU,
    flash,
    async restore() {
      await board.power.off();
      flash.restore(start);
      await boot.bootloader();
      await board.power.on();
    },
    update,
    async recover(ctx) {
      await powerOnAsProduct();
      checkPages(ctx, "after the update");
      if (holdsNew() && view.mode.kind === "application") return;
      await intoBootloader();
      await update(ctx);
    },
    async check(ctx) {
      await powerOnAsProduct();
      checkPages(ctx, "after recovery");
    },
    async cleanUpdate(ctx) {
      await intoBootloader();
      await update(ctx);
      if (!holdsNew()) throw new Error("after the clean update the flash is not the new image");
      if (view.mode.kind !== "application") throw new Error(`after Go the core is ${view.state}`);
    },
  };
}

/** The host's own read-back check failed: the device wrote something else (a device fault). */
class VerifyError extends Error {
  readonly category = "device";
  override name = "VerifyError";
}
