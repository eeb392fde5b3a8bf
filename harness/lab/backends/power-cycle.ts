import type { Clock } from "../../transport/clock.js";

/**
 * A power cycle as every switch-only backend does it: off, `offMs` on the board's clock
 * (long enough for the board's capacitors to drain), on. Backends that can cycle in one
 * command of their own would not use it.
 */
export async function cycleOffOn(
  power: { off(): Promise<void>; on(): Promise<void> },
  clock: Clock,
  offMs: number,
): Promise<void> {
  await power.off();
  await clock.sleep(offMs);
  await power.on();
}
