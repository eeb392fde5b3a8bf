/**
 * STM32WB55 FUS stack install and FUS self-upgrade (AN5185 §2.1.1, §3.1) over the ROM
 * bootloader's USB DFU, as a campaign runs it: a part with no stack and the factory FUS,
 * install stack 1.0.0, then upgrade FUS to 2.2.0. Recovery is what AN5185 Table 3 ("Other
 * failures") gives a developer: power the board on, FUS resumes or recovers and ends in a
 * documented state, FUS_GET_STATE until it is idle (or the stack runs), then repeat what the
 * device information table shows is missing. The clean second update installs stack 2.0.0.
 *
 * The image invariant here: no half-installed stack ever starts (when CPU2 runs the stack,
 * FUS's record of it names a whole image in flash), and FUS's answers in every client trace
 * follow Table 10 (fus-transitions.ts).
 */
import { DfuFusLink, FusClient } from "../../clients/fus/index.js";
import { buildFusImage } from "../../devices/registry.js";
import { usbFilterOf } from "../../lab/locate.js";
import {
  decodeVersion,
  FOOTER_SIZE,
  FusState,
  type FusVersion,
  SIGNATURE_SIZE,
} from "../../protocol/fus/index.js";
import type { Board } from "../../rig/board.js";
import { inspectIf } from "../../rig/require-inspect.js";
import { usbBusOf } from "../../rig/usb-link.js";
import { bytesEqual } from "../../seams/bytes.js";
import { undocumentedTransitions } from "../fus-transitions.js";
import type { CampaignFamily } from "../ids.js";
import type { FaultMenu } from "../plan.js";
import type { FamilyScenario, RunContext } from "../scenario.js";

const ROM_USB = { vendorId: 0x0483, productId: 0xdf11 };
const FLASH = 0x0800_0000;
const PAGE = 4096;
/** End of the WB55's 1 MB flash. */
const FLASH_END = FLASH + 0x10_0000;
/** Bound on any one client operation, device time: the client's own budgets end sooner. */
const OP_LIMIT_MS = 300_000;
/** The client's budgets (qFlipper's 30 s offline would only make hung runs longer). */
const CLIENT = { offlineTimeoutMs: 10_000, operationTimeoutMs: 120_000 };

export const FUS_MENU: FaultMenu = {
  flash: ["power-cut", "power-cut-torn", "flash-fail", "bit-flip"],
  events: {
    "dfu.dnload.block": ["power-cut", "usb-disconnect"],
    "fus.reset": ["power-cut"],
    "fus.state.FW_UPGRD_ONGOING": ["power-cut"],
    "fus.state.FUS_UPGRD_ONGOING": ["power-cut"],
  },
  time: ["power-cut"],
};

const version = (major: number, minor: number): FusVersion => ({ major, minor, sub: 0, branch: 0, build: 0 });
/** A small stack keeps a plan short; FUS 2.2.0 two sectors bigger than the factory FUS (it moves the stack). */
const STACK_SECTORS = 4;
const FUS_SECTORS = 8;

export async function stm32wb55FusScenario(board: Board, id: CampaignFamily): Promise<FamilyScenario> {
  const view = inspectIf(board, "stm32");
  const cpu2 = view?.fus;
  if (!view || !cpu2) throw new Error(`board ${board.id}: a FUS campaign needs an emulated STM32WB55`);
  const flash = view.chip.flash;
  const stack = (major: number) =>
    buildFusImage({
      kind: "wireless-stack",
      version: version(major, 0),
      sectors: STACK_SECTORS,
      label: `campaign-stack-${major}-${board.seed}`,
    });
  const images = { 1: stack(1), 2: stack(2) } as Record<number, Uint8Array>;
  const fus = buildFusImage({
    kind: "fus",
    version: version(2, 2),
    sectors: FUS_SECTORS,
    label: `campaign-fus-${board.seed}`,
  });
  const bus = usbBusOf(board);
  const rom = usbFilterOf(board, ROM_USB);
  /** Clients of the steps not yet checked against Table 10. */
  let clients: FusClient[] = [];

  const connect = (ctx: RunContext) =>
    ctx.op("open FUS over DFU", OP_LIMIT_MS, async () => {
      const link = await DfuFusLink.open(bus, rom, { clock: board.clock, timeouts: { enumerateMs: 5000 } });
      const client = new FusClient(link, CLIENT);
      clients.push(client);
      ctx.record("fus", client.transcript);
      return client;
    });
  const info = async (ctx: RunContext, client: FusClient) => {
    const t = await ctx.op("read device information", OP_LIMIT_MS, () => client.readDeviceInfo());
    const stackV = t.stackInstalled ? decodeVersion(t.wirelessStackVersion) : undefined;
    const fusV = decodeVersion(t.fusVersion);
    return { stack: stackV?.major, fus: `${fusV.major}.${fusV.minor}` };
  };
  /** What FUS keeps after the install and the FUS upgrade, repeating whichever is missing. */
  const complete = async (ctx: RunContext, client: FusClient, stackMajor: number) => {
    if ((await info(ctx, client)).stack !== stackMajor)
      await ctx.op("install the stack", OP_LIMIT_MS, () => client.fwUpgrade(images[stackMajor]!));
    if ((await info(ctx, client)).fus !== "2.2")
      await ctx.op("upgrade FUS", OP_LIMIT_MS, () => client.fwUpgrade(fus));
  };
  /** AN5185 Table 3: FUS_GET_STATE until FUS is idle (it may resume or recover first), reports an error once, or the stack runs. */
  const settle = (ctx: RunContext, client: FusClient) =>
    ctx.op("GET_STATE until FUS settles", OP_LIMIT_MS, () =>
      client.waitFor("settle", (s) => s.state === FusState.IDLE || s.state === FusState.ERROR),
    );
  const closeAll = async () => {
    for (const c of clients) await c.close().catch(() => {});
  };

  /** No half-installed stack starts: a running stack is a whole image FUS recorded. */
  const checkStack = (ctx: RunContext, when: string) => {
    if (cpu2.mode !== "stack") return;
    const s = cpu2.nv.stack;
    if (!s) return ctx.violate("old-or-new", `${when}: CPU2 runs a stack FUS has no record of`);
    const major = decodeVersion(s.version).major;
    const image = images[major];
    if (!image) return ctx.violate("old-or-new", `${when}: CPU2 runs stack ${major}.x, not one installed`);
    const length = image.length - SIGNATURE_SIZE - FOOTER_SIZE;
    const address = FLASH + s.page * PAGE;
    if (bytesEqual(flash.peek(address, length), image.subarray(0, length))) return;
    // FUS moves a stack only downwards here (install in place, then lower for a bigger FUS):
    // a torn, failed or flipped write anywhere above its start may have travelled with it.
    if (ctx.wasFaulted(address, FLASH_END - address)) return;
    ctx.violate(
      "old-or-new",
      `${when}: CPU2 runs stack ${major}.0.0 at 0x${address.toString(16)}, but the flash there is not the whole image`,
    );
  };
  /** Every FUS answer the clients saw follows Table 10. */
  const checkTraces = (ctx: RunContext) => {
    for (const c of clients)
      for (const m of undocumentedTransitions(c.trace)) ctx.violate("old-or-new", `${ctx.step}: ${m}`);
    clients = [];
  };

  return {
    family: id,
    menu: FUS_MENU,
    flash,
    async restore() {
      await closeAll();
      clients = [];
      await board.strategy.factoryReset({ stack: false });
    },
    async update(ctx) {
      const client = await connect(ctx);
      await ctx.op("install the stack", OP_LIMIT_MS, () => client.fwUpgrade(images[1]!));
      await ctx.op("upgrade FUS", OP_LIMIT_MS, () => client.fwUpgrade(fus));
    },
    async recover(ctx) {
      await closeAll();
      checkStack(ctx, "after the update");
      if (!view.power.isOn) await board.power.on();
      const client = await connect(ctx);
      await settle(ctx, client);
      checkStack(ctx, "after FUS settled");
      await complete(ctx, client, 1);
    },
    async check(ctx) {
      await closeAll();
      checkStack(ctx, "after recovery");
      await board.power.cycle();
      checkStack(ctx, "after recovery and a power cycle");
      checkTraces(ctx);
    },
    async cleanUpdate(ctx) {
      let got: Awaited<ReturnType<typeof info>>;
      try {
        const client = await connect(ctx);
        await settle(ctx, client);
        await ctx.op("install stack 2.0.0", OP_LIMIT_MS, () => client.fwUpgrade(images[2]!));
        await complete(ctx, client, 2);
        got = await info(ctx, client);
      } finally {
        // A failed clean update's traces are checked too.
        checkStack(ctx, "after the clean update");
        checkTraces(ctx);
        await closeAll();
      }
      if (got.stack !== 2 || got.fus !== "2.2")
        throw new FusOutcomeError(`after the clean update FUS ${got.fus} holds stack ${got.stack ?? "none"}`);
      // A second GET_STATE would reboot a running stack into FUS (§1.2): ask the model instead.
      if (cpu2.mode !== "stack")
        throw new FusOutcomeError(`after the clean update CPU2 runs ${cpu2.mode}, not the wireless stack`);
    },
  };
}

/** The device information table or CPU2 shows the update did not take: a device fault. */
class FusOutcomeError extends Error {
  readonly category = "device";
  override name = "FusOutcomeError";
}
