/**
 * One mechanism for rig-operation steps: a board whose power, boot and reset controls record
 * every call as a timed Allure step ("power off", "power cycle 500", "boot bootloader",
 * "reset"), nested under whatever step is open, failing with the call. Suites get this board
 * from forEachBoard and write no step code themselves. Outside an Allure run the steps are
 * no-ops around the calls.
 */
import * as allure from "allure-js-commons";
import type { OperationObserver } from "../clients/operation.js";
import type { BoardView } from "../seams/board-view.js";
import type { Strategy } from "../seams/strategy.js";
import { operationStarted, watchTranscript } from "./evidence.js";
import { expectedErrorNow } from "./expect-error.js";

const CONTROLS = { power: "power", boot: "boot", reset: "reset" } as const;

/**
 * Is an Allure reporter listening? Without one, every allure-js-commons call looks for a
 * runtime with a dynamic import: real I/O, during which a virtual clock moves on. Steps are
 * then skipped, so a run without Allure drives the device exactly as the code says.
 */
function reporting(): boolean {
  // The global allure-js-commons reads (the reporter may load the CommonJS build while we
  // load the ES one, so no instanceof).
  return typeof (globalThis as { allureTestRuntime?: unknown }).allureTestRuntime === "function";
}

/** How a call argument reads in a step title: bytes as their length, option objects as `key=value`. */
function describeArg(arg: unknown): string {
  if (arg instanceof Uint8Array) return `${arg.length} bytes`;
  if (arg !== null && typeof arg === "object" && Object.getPrototypeOf(arg) === Object.prototype)
    return Object.entries(arg)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => `${k}=${describeArg(v)}`)
      .join(" ");
  return String(arg);
}

/** `control` with every method call wrapped in an Allure step named "<name> <method> <args>". */
export function steppedControl<T extends object>(name: string, control: T): T {
  return new Proxy(control, {
    get(target, prop) {
      // Getters and methods run on the real object (class backends keep #private state).
      const value = Reflect.get(target, prop);
      if (typeof value !== "function" || typeof prop !== "string" || prop === "constructor") return value;
      return (...args: unknown[]) => {
        const title = [name === prop ? name : `${name} ${prop}`, ...args.map(describeArg)]
          .filter((t) => t !== "")
          .join(" ");
        // The call starts now, synchronously, as unwrapped: suites cut power from inside a
        // client event and rely on the cut starting before the next transfer.
        let outcome: Promise<unknown>;
        try {
          outcome = Promise.resolve((value as (...a: unknown[]) => unknown).apply(target, args));
        } catch (e) {
          outcome = Promise.reject(e);
        }
        if (!reporting()) return outcome;
        outcome.catch(() => {}); // handled by the step below; no unhandled-rejection warning meanwhile
        return allure.step(title, () => outcome);
      };
    },
  });
}

/** A strategy that can be rebound to another view of its board (harness/rig/strategies). */
interface RebindableStrategy {
  on?(board: BoardView): Strategy;
}

/**
 * `board` with its power, boot and reset controls stepped (the same board otherwise), and
 * its strategy stepped too ("strategy transition rom-dfu", "strategy factoryReset image=…
 * bytes"), driving the stepped controls so its power and boot calls nest inside.
 */
export function steppedBoard<B extends BoardView>(board: B): B {
  const wrapped = new Map<string, unknown>();
  for (const [key, name] of Object.entries(CONTROLS)) {
    const control = board[key as keyof typeof CONTROLS];
    if (control) wrapped.set(key, steppedControl(name, control));
  }
  const proxy: B = new Proxy(board, {
    get(target, prop) {
      if (typeof prop === "string" && wrapped.has(prop)) return wrapped.get(prop);
      const value = Reflect.get(target, prop);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  const strategy = board.strategy as Strategy & RebindableStrategy;
  if (strategy) {
    const driving = strategy.on?.(proxy) ?? strategy;
    const stepped: Strategy = {
      states: strategy.states,
      afterFactory: strategy.afterFactory,
      restores: strategy.restores,
      limits: strategy.limits,
      transition: (to) => outerStep(`strategy transition ${to}`, () => driving.transition(to)),
      factoryReset: (opts) =>
        outerStep(["strategy factoryReset", describeArg(opts ?? {})].join(" ").trim(), () =>
          driving.factoryReset(opts),
        ),
    };
    wrapped.set("strategy", stepped);
  }
  return proxy;
}

/**
 * `body` inside a step opened before it starts, so the steps of the calls it makes (power,
 * boot) nest inside. Not for control calls a suite times (those start synchronously, see
 * {@link steppedControl}).
 */
function outerStep<T>(title: string, body: () => Promise<T>): Promise<T> {
  if (!reporting()) return body();
  return Promise.resolve(allure.step(title, body));
}

/**
 * The Allure side of client operations ({@link OperationObserver}): each is a timed step
 * nested under the open one (so "download 37 blocks" sits inside "update", and a power cut
 * inside the block that saw it), retitled when the body says how it went, failing with the
 * body; and the client's transcript is watched, so a failed test carries it.
 */
export const allureOperationSteps: OperationObserver = (source, title, body) => {
  watchTranscript(source.kind, source.transcript);
  if (!reporting()) return body({ retitle() {} });
  // An error the test declared (expectError) ends the step as passed, named in its title.
  const stepped = allure.step(title, async (step) => {
    let final: string | undefined;
    // The client lane of the timeline picture.
    const ended = operationStarted(title);
    let outcome: "ok" | "failed" | "expected" = "failed";
    try {
      const value = await body({ retitle: (t) => (final = t) });
      outcome = "ok";
      return { value };
    } catch (e) {
      const expected = expectedErrorNow();
      if (!expected?.matches(e)) throw e;
      final = `${final ?? title} → ${expected.name} (expected)`;
      outcome = "expected";
      return { error: e };
    } finally {
      ended(final ?? title, outcome);
      if (final !== undefined) await step.displayName(final);
    }
  });
  return Promise.resolve(stepped).then((r) => ("error" in r ? Promise.reject(r.error) : r.value));
};
