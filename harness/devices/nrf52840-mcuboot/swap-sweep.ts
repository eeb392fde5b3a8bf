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
  const staged = dev.flash.snapshot();
  const start = dev.flash.counters.ops;
  await dev.power.on();
  const total = dev.flash.counters.ops - start;
  const failures: string[] = [];
  for (const [a, b] of pairs(total)) {
    await dev.power.off();
    dev.flash.restore(staged);
    dev.flash.armCut(start + a);
    await dev.power.on();
    dev.flash.armCut(dev.flash.counters.ops + b);
    await dev.power.on();
    dev.flash.disarmCut();
    if (dev.state !== "running") await dev.power.on();
    const problem = check();
    if (problem) failures.push(`cuts at ${a} then +${b}: ${problem}`);
  }
  return failures;
}
