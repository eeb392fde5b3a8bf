/**
 * MCUboot's simulator loop, for a board powered off with a swap due at its next boot: count
 * the swap's flash operations with one clean boot, then for each N restore the staged flash,
 * cut power before operation N (the boot stops there) and let `check` go on from the cut,
 * returning what was wrong, if anything. Suites and the emulator's own tests share it.
 */
import { type SweepResult, sweep } from "../../sim/sweep.js";
import type { Nrf52840McubootDevice } from "./device.js";

/** The staged flash, and a clean boot that counts the swap's flash operations. */
function stagedSwap(dev: Nrf52840McubootDevice) {
  const staged = dev.flash.snapshot();
  const start = dev.flash.counters.ops;
  return {
    start,
    count: async () => {
      await dev.power.on();
      return dev.flash.counters.ops - start;
    },
    /** Powered off, the staged flash back, a cut armed before the swap's operation `n`. */
    restageWithCut: async (n: number) => {
      await dev.power.off();
      dev.flash.restore(staged);
      dev.flash.armCut(start + n);
    },
  };
}

export async function sweepSwapCuts(
  dev: Nrf52840McubootDevice,
  check: (n: number) => Promise<string | undefined>,
  opts: {
    /** Runs after the clean counting boot, before the first cut (to check the uninterrupted swap). */
    afterCleanSwap?: (total: number) => void;
  } = {},
): Promise<SweepResult> {
  const swap = stagedSwap(dev);
  return sweep({
    clock: dev.clock,
    count: async () => {
      const total = await swap.count();
      opts.afterCleanSwap?.(total);
      return total;
    },
    run: async (n) => {
      await swap.restageWithCut(n);
      await dev.power.on();
    },
    // Power-on swallows the cut itself: anything the run throws is a fault of the emulator.
    check: async (n, _total, thrown) => (thrown ? unexpected(thrown) : check(n)),
    label: (n) => `cut before op ${n}`,
  });
}

/**
 * Two cuts in one swap: for each pair [a, b] that `pairs(total)` picks (total: the clean
 * swap's flash operations), restore the staged flash, cut before operation a, power on and
 * cut again b operations into the resume, then boot on uncut and let `check` look at the end
 * state. The board is powered off with a swap due, as for {@link sweepSwapCuts}.
 */
export async function sweepDoubleCuts(
  dev: Nrf52840McubootDevice,
  pairs: (total: number) => [a: number, b: number][],
  check: () => string | undefined,
): Promise<string[]> {
  const swap = stagedSwap(dev);
  const { failures } = await sweep<[number, number]>({
    count: swap.count,
    points: pairs,
    run: async ([a, b]) => {
      await swap.restageWithCut(a);
      await dev.power.on();
      dev.flash.armCut(dev.flash.counters.ops + b);
      await dev.power.on();
      dev.flash.disarmCut();
      if (dev.state !== "running") await dev.power.on();
    },
    check: async (_pair, _total, thrown) => (thrown ? unexpected(thrown) : check()),
    label: ([a, b]) => `cuts at ${a} then +${b}`,
  });
  return failures;
}

function unexpected(thrown: unknown): string {
  return `the interrupted boot threw ${thrown instanceof Error ? thrown.message : String(thrown)}`;
}
