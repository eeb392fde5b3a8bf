/**
 * The power-fail loop of MCUboot's simulator, on a DfuSe update: count the flash operations
 * (or DNLOAD blocks) of a clean update, then for each cut point cut power there, power on
 * with BOOT0 low and see what runs, bring the board back to the bootloader with BOOT0, and
 * run a second full update that must leave the flash byte-exact and the application running.
 */
import { expect } from "chai";
import type { DfuClient } from "../../harness/clients/dfu/index.js";
import { DfuError } from "../../harness/clients/dfu/index.js";
import {
  type Board,
  bytesEqual,
  evidenceNote,
  expectFlash,
  type FlashSnapshot,
  firstDifference,
  flashOpCut,
  type SweepResult,
  sectorMap,
  sweep,
} from "../../harness/index.js";
import { appFilter, appImage, asFile, connect, profile, startInBootloader, stm32 } from "./fixture.js";

export type CutAt = { kind: "flash-op"; torn: boolean } | { kind: "dnload-block" };

export interface SweepOptions {
  imageSize: number;
  cut: CutAt;
  /** Cut points to try (default: every one, 1..total). Lab rigs pass a sample, a bench worker its share. */
  points?: (total: number) => Iterable<number>;
}

/** `outcomes`: after each cut and power-on (BOOT0 low), what ran. */
export async function powerCutSweep(board: Board, opts: SweepOptions): Promise<SweepResult> {
  const p = profile(board);
  const base = p.flash.base;
  const v1 = appImage(board, opts.imageSize, "sweep-v1");
  const v2 = appImage(board, opts.imageSize, "sweep-v2");
  const image = asFile("bin", base, v2);
  const dev = stm32(board);
  const torn = opts.cut.kind === "flash-op" && opts.cut.torn;
  let start: FlashSnapshot | undefined;
  let reference: Uint8Array | undefined;
  let client: DfuClient;
  /** How the interrupted download ended (what `run` throws before it is a failure of its own). */
  let err: unknown;
  // Per cut point, what each page of the image range holds: O old, N new, . erased, x other.
  const mapOf = () =>
    dev
      ? ` [${sectorMap(dev.chip.flash, { address: base, length: v2.length }, { O: { address: base, bytes: v1 }, N: { address: base, bytes: v2 } })}]`
      : "";
  const label = (n: number) =>
    opts.cut.kind === "flash-op" ? `flash op ${n}${torn ? " (torn)" : ""}` : `DNLOAD block ${n}`;

  return sweep({
    clock: board.clock,
    // A clean update from the old application: the reference, and the count of cut points.
    count: async () => {
      await startInBootloader(board, v1);
      start = dev?.chip.flash.snapshot();
      client = await connect(board);
      let blocks = 0;
      client.events.on("block", () => blocks++);
      const opsBefore = dev?.chip.flash.counters.ops ?? 0;
      await client.download(image);
      const total = opts.cut.kind === "flash-op" ? (dev?.chip.flash.counters.ops ?? 0) - opsBefore : blocks;
      reference = dev?.chip.flash.peek(base, dev.chip.flash.size);
      if (dev) expectFlash(dev.chip.flash, { address: base, bytes: v2 }, "the new application (v2)");
      expect(total, "a clean update has cut points").to.be.above(0);
      return total;
    },
    points: opts.points,
    label,
    run: async (n) => {
      // Back to the state before the update, in the bootloader.
      if (dev && start) {
        await dev.power.off();
        dev.chip.flash.restore(start);
        await board.boot?.bootloader();
        await dev.power.on();
      } else {
        await startInBootloader(board, v1);
      }
      client = await connect(board);
      if (opts.cut.kind === "flash-op") {
        if (!dev) throw new Error("flash-op cuts need an emulated board");
        flashOpCut(dev.chip.flash, torn)(n);
      } else {
        // The client's block event is where a lab rig's power backend cuts, too.
        client.events.on("block", (e) => {
          if (e.index === n) void board.power.off();
        });
      }
      err = await client.download(image).then(
        () => undefined,
        (e: unknown) => e,
      );
    },
    check: async (n, total, thrown) => {
      if (thrown) throw thrown;
      // A cut after the last block comes after the download finished: nothing to interrupt.
      const finished = err === undefined && opts.cut.kind === "dnload-block" && n === total;
      if (
        !finished &&
        (!(err instanceof DfuError) || !["disconnected", "timeout", "stale"].includes(err.kind))
      )
        return `the interrupted update ended with ${String(err)}`;
      // Power on as the product would: BOOT0 low, the boot configuration decides.
      await board.power.off();
      await board.boot?.application();
      await board.power.on();
      const ran = dev ? dev.state.replace(/ at 0x[0-9a-f]+/, "") : "lab";
      const oldApp = dev ? bytesEqual(dev.chip.flash.peek(base, 8), v1.subarray(0, 8)) : false;
      const key = ran === "application" ? (oldApp ? "old application" : "new vector table") : ran;
      const map = mapOf();
      evidenceNote("flash after each cut (O old, N new, . erased, x other)", `${label(n)}:${map} → ${key}`);
      const problems: string[] = [];
      // Only a torn operation may leave a vector table that is neither blank nor valid.
      if (dev && key === "halted" && !torn) problems.push(`after power-on the core is ${dev.state}${map}`);
      // Recovery: BOOT0 back to the bootloader, a second full update, byte-exact, and it runs.
      const problem = await recover(board, client, image, reference).catch((e: unknown) => String(e));
      if (problem) problems.push(problem);
      return { outcome: key, problem: problems };
    },
  });
}

async function recover(
  board: Board,
  stale: DfuClient,
  image: ReturnType<typeof asFile>,
  reference: Uint8Array | undefined,
): Promise<string | undefined> {
  await board.boot?.bootloader();
  await board.power.cycle();
  const client = await connect(board);
  if (client.device === stale.device) return "the stale handle came back";
  await client.download(image);
  const dev = stm32(board);
  const base = profile(board).flash.base;
  if (dev && reference) {
    const now = dev.chip.flash.peek(base, dev.chip.flash.size);
    const at = firstDifference(now, reference);
    if (at >= 0) return `second update not byte-exact at 0x${(base + at).toString(16)}`;
  } else {
    await client.verify(image);
  }
  await client.leave(base);
  await client.waitForApplication(appFilter(board));
  if (dev && dev.mode.kind !== "application") return `after leave the core is ${dev.state}`;
  return undefined;
}
