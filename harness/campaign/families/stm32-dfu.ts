/**
 * DfuSe full update and leave (AN3156 §5, the CanoKey DFU page), as a campaign runs it: the
 * old application in flash, BOOT0 high, download the new one and leave. Recovery is what
 * the documents give a developer: power on with BOOT0 low and see what runs; if it is not
 * the new application, BOOT0 high, a power cycle and the full update again.
 */
import { DfuClient } from "../../clients/dfu/index.js";
import { usbFilterOf } from "../../lab/locate.js";
import { loadImage } from "../../protocol/dfu/index.js";
import type { Board } from "../../rig/board.js";
import { inspectIf } from "../../rig/require-inspect.js";
import { appUsbFilter, usbBusOf } from "../../rig/usb-link.js";
import { bytesEqual } from "../../seams/bytes.js";
import type { Flash } from "../../sim/flash.js";
import { Random } from "../../sim/random.js";
import type { CampaignFamily } from "../ids.js";
import type { FaultMenu } from "../plan.js";
import type { FamilyScenario, RunContext } from "../scenario.js";

const ROM_USB = { vendorId: 0x0483, productId: 0xdf11 };
/** Bound on any one client operation, device time: the client's own timeouts end far sooner. */
const OP_LIMIT_MS = 120_000;

export const DFU_MENU: FaultMenu = {
  flash: ["power-cut", "power-cut-torn", "flash-fail", "bit-flip"],
  events: {
    "dfu.dnload.block": ["power-cut", "usb-disconnect"],
    "dfu.request.GETSTATUS": ["power-cut", "usb-stall", "usb-disconnect"],
  },
  time: ["power-cut"],
};

export interface DfuScenarioOptions {
  /** Bytes of the old and new application images (default 16 KB). */
  imageSize?: number;
}

/** A valid vector table (SP at the top of SRAM, Thumb reset handler), then seeded bytes. */
export function appImage(
  p: { sram: { base: number; size: number }; flash: { base: number } },
  size: number,
  label: string,
  seed: number,
): Uint8Array {
  const r = new Random(seed).fork(label);
  const img = Uint8Array.from({ length: size }, () => r.byte());
  const dv = new DataView(img.buffer);
  dv.setUint32(0, p.sram.base + p.sram.size, true);
  dv.setUint32(4, p.flash.base + 0x1c1, true);
  return img;
}

export async function stm32DfuScenario(
  board: Board,
  id: CampaignFamily = board.family,
  opts: DfuScenarioOptions = {},
): Promise<FamilyScenario> {
  const view = inspectIf(board, "stm32");
  if (!view || !board.boot) throw new Error(`board ${board.id}: a DFU campaign needs an emulated STM32`);
  const boot = board.boot;
  const size = opts.imageSize ?? 16 * 1024;
  const base = view.profile.flash.base;
  const flash = view.chip.flash;
  const v1 = appImage(view.profile, size, "campaign-v1", board.seed);
  const v2 = appImage(view.profile, size, "campaign-v2", board.seed);
  const image = loadImage("app.bin", v2, { address: base });
  const bus = usbBusOf(board);
  const rom = usbFilterOf(board, ROM_USB);
  const app = appUsbFilter(board);
  await board.strategy.factoryReset({ image: v1 });
  const start = flash.snapshot();

  const connect = (ctx: RunContext) =>
    ctx.op("open DFU", OP_LIMIT_MS, async () => {
      const client = await DfuClient.open(bus, rom, {
        clock: board.clock,
        alt: 0,
        timeouts: { enumerateMs: 5000 },
      });
      ctx.record("dfu", client.transcript);
      return client;
    });
  const fullUpdate = async (ctx: RunContext) => {
    const client = await connect(ctx);
    await ctx.op("download", OP_LIMIT_MS, () => client.download(image));
    await ctx.op("leave", OP_LIMIT_MS, () => client.leave(base));
    return client;
  };
  const powerOnAsProduct = async () => {
    await board.power.off();
    await boot.application();
    await board.power.on();
  };
  const holdsNew = () => bytesEqual(flash.peek(base, size), v2);
  const checkPages = appAreaCheck(flash, base, v1, v2, view.profile.flash.pageSize);

  return {
    family: id,
    menu: DFU_MENU,
    flash,
    async restore() {
      await board.power.off();
      flash.restore(start);
      await boot.bootloader();
      await board.power.on();
    },
    async update(ctx) {
      await fullUpdate(ctx);
    },
    async recover(ctx) {
      await powerOnAsProduct();
      checkPages(ctx, "after the update");
      if (holdsNew() && view.mode.kind === "application") return;
      await boot.bootloader();
      await board.power.cycle();
      await fullUpdate(ctx);
    },
    async check(ctx) {
      await powerOnAsProduct();
      checkPages(ctx, "after recovery");
    },
    async cleanUpdate(ctx) {
      await boot.bootloader();
      await board.power.cycle();
      const client = await fullUpdate(ctx);
      if (!holdsNew()) {
        const got = flash.peek(base, size);
        const at = got.findIndex((b, i) => b !== v2[i]);
        throw new Error(`flash differs from the new image at 0x${(base + at).toString(16)}`);
      }
      await ctx.op("wait for the application", OP_LIMIT_MS, () => client.waitForApplication(app));
      if (view.mode.kind !== "application") throw new Error(`after leave the core is ${view.state}`);
    },
  };
}

/**
 * The DFU/USART image invariant: every `grain` bytes of the application area (what one
 * write programs: a DFU block is a page, a USART Write Memory 256 bytes) hold the old image's
 * bytes, the new one's, or are erased, unless a fault tore, failed or flipped an operation there.
 */
export function appAreaCheck(
  flash: Flash,
  base: number,
  v1: Uint8Array,
  v2: Uint8Array,
  grain: number,
): (ctx: RunContext, when: string) => void {
  const size = Math.max(v1.length, v2.length);
  const erased = flash.erasedValue;
  return (ctx, when) => {
    const got = flash.peek(base, size);
    let map = "";
    const bad: number[] = [];
    for (let off = 0; off < size; off += grain) {
      const end = Math.min(off + grain, size);
      const is = (want: (i: number) => number) => {
        for (let i = off; i < end; i++) if (got[i] !== want(i)) return false;
        return true;
      };
      const mark = is((i) => v2[i] ?? erased)
        ? "N"
        : is((i) => v1[i] ?? erased)
          ? "O"
          : is(() => erased)
            ? "."
            : "x";
      map += mark;
      if (mark === "x" && !ctx.wasFaulted(base + off, end - off)) bad.push(base + off);
    }
    for (const at of bad)
      ctx.violate(
        "old-or-new",
        `${when}: bytes at 0x${at.toString(16)}+${grain} hold neither image [${map}]`,
      );
  };
}
