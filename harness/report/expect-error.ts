/**
 * Errors a test provokes on purpose (an injected errPROG, a NACK under read protection) end
 * client operations just like real failures. {@link expectError} runs the operation with the
 * error declared: the operation steps that end in it are reported as passed, titled with the
 * error they ended in ("download 4 blocks → errPROG (expected)"), and the error is returned
 * for the test to examine. Any other outcome fails the test: no error is an assertion failure,
 * a different error is thrown as it is (so it keeps its own category).
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { AssertionError } from "chai";

/**
 * What the error must be: a name or code that the error's name, `status`, `code` or message
 * (as a word) carries ("errPROG", "NackError", "ENOENT"), a pattern of its message, or its class.
 */
export type ErrorMatcher = string | RegExp | (abstract new (...args: never[]) => Error);

/** The error the running code expects, as the report steps see it. */
export interface ExpectedError {
  /** How a step title names it ("errPROG", "DfuError", "/timed out/"). */
  readonly name: string;
  matches(error: unknown): boolean;
}

const expectation = new AsyncLocalStorage<ExpectedError>();

/** The error expected by the code running now (undefined outside {@link expectError}). */
export function expectedErrorNow(): ExpectedError | undefined {
  return expectation.getStore();
}

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

export function errorMatcher(matcher: ErrorMatcher): ExpectedError {
  if (typeof matcher === "function") return { name: matcher.name, matches: (e) => e instanceof matcher };
  if (matcher instanceof RegExp)
    return { name: String(matcher), matches: (e) => e instanceof Error && matcher.test(e.message) };
  const word = new RegExp(`(^|[^\\w])${escapeRegExp(matcher)}([^\\w]|$)`);
  return {
    name: matcher,
    matches(e) {
      if (!(e instanceof Error)) return false;
      const { status, code } = e as { status?: unknown; code?: unknown };
      return e.name === matcher || status === matcher || code === matcher || word.test(e.message);
    },
  };
}

/**
 * Runs `operation` expecting it to fail with `matcher`; resolves to that error. The client
 * operation steps it ends are passed steps naming the error.
 */
export async function expectError(operation: () => Promise<unknown>, matcher: ErrorMatcher): Promise<Error> {
  const expected = errorMatcher(matcher);
  let outcome: { error: unknown } | undefined;
  try {
    await expectation.run(expected, operation);
  } catch (e) {
    outcome = { error: e };
  }
  if (!outcome)
    throw new AssertionError(`expected the operation to fail with ${expected.name}, but it succeeded`);
  if (!expected.matches(outcome.error)) throw outcome.error;
  return outcome.error as Error;
}
