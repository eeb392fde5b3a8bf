/**
 * Skipping a test with its reason on record. Mocha's `this.skip()` takes no reason (the
 * Allure result only says "Test skipped"), so the reason goes into the result's description
 * first, where the qualification matrix reads it back ({@link skipReasonOf}).
 */
import * as allure from "allure-js-commons";

const PREFIX = "Skipped: ";

/** Records `reason` and skips the running test (or, from a hook, the tests it guards). */
export async function skipWithReason(ctx: Mocha.Context, reason: string): Promise<never> {
  await allure.description(`${PREFIX}${reason}.`);
  ctx.skip();
}

/** The reason {@link skipWithReason} recorded in a result's description, if it did. */
export function skipReasonOf(description: string | undefined): string | undefined {
  if (!description?.startsWith(PREFIX)) return undefined;
  return description.slice(PREFIX.length).replace(/\.$/, "");
}
