/**
 * MCUboot's simulator loop, for a board powered off with a swap due at its next boot: count
 * the swap's flash operations with one clean boot, then for each N restore the staged flash,
 * cut power before operation N (the boot stops there) and let `check` go on from the cut,
 * returning what was wrong, if anything. Suites and the emulator's own tests share it.
 */
import type { Nrf52840McubootDevice } from "./device.js";

export async function sweepSwapCuts(
  dev: Nrf52840McubootDevice,
  check: (n: number) => Promise<string | undefined>,
  opts: {
    /** Runs after the clean counting boot, before the first cut (to check the uninterrupted swap). */
    afterCleanSwap?: (total: number) => void;
  } = {},
): Promise<{ total: number; failures: string[] }> {
  const staged = dev.flash.snapshot();
  const start = dev.flash.counters.ops;
  await dev.power.on();
  const total = dev.flash.counters.ops - start;
  opts.afterCleanSwap?.(total);
  const failures: string[] = [];
  for (let n = 1; n <= total; n++) {
    await dev.power.off();
    dev.flash.restore(staged);
    dev.flash.armCut(start + n);
    await dev.power.on();
    const problem = await check(n);
    if (problem) failures.push(`cut before op ${n}: ${problem}`);
  }
  return { total, failures };
}
