/**
 * `gpio` lines through libgpiod's `gpioset` (run with execa).
 *
 * A GPIO line driven through the character device keeps its value only while the process
 * that requested it holds it; after that the state is undefined (both gpioset manuals say
 * so). So each line has one *holder*: a gpioset process that sets the value and keeps
 * running until the harness changes the value (the holder is stopped, a new one started)
 * or exits (holders are killed then). Invocations:
 *
 *   libgpiod 1.x:  gpioset --mode=signal [--active-low] <chip> <line>=<0|1>
 *   libgpiod 2.x:  gpioset --banner [--active-low] --chip <chip> <line>=<0|1>   (holds by default)
 *
 * The version comes from `gpioset --version` once per process. libgpiod 2 prints its
 * banner once the line is requested: the holder has the line when anything appears on its
 * stdout (within the command timeout). libgpiod 1 says nothing, so a holder that is still
 * running after the confirmation time (`confirmMs`) counts as holding the line. A holder
 * that exits first failed (busy, no such chip): its stderr goes into the infrastructure error. `get()` reports the value our running holder drives;
 * undefined before the first set, or when the holder died.
 */
import { execa, type ResultPromise } from "execa";
import type { Clock } from "../../transport/clock.js";
import { InfrastructureError } from "../errors.js";
import type { OutputLine } from "./lines.js";

export interface GpioSpec {
  readonly chip: string;
  readonly line: number;
  readonly activeLow?: boolean | undefined;
}

/** How long a new holder must stay up to count as having the line. */
export const GPIO_CONFIRM_MS = 150;

interface Holder {
  readonly process: ResultPromise;
  readonly value: boolean;
  exited: boolean;
  stderr: string;
}

const holders = new Map<string, Holder>();
let versionPromise: Promise<1 | 2> | undefined;

/** Major version of the gpioset on PATH; forgotten by {@link resetGpioVersion} (tests). */
export function gpiosetVersion(timeoutMs: number): Promise<1 | 2> {
  versionPromise ??= (async () => {
    const r = await execa("gpioset", ["--version"], {
      reject: false,
      timeout: timeoutMs,
      stdin: "ignore",
      all: true,
    });
    const text = String(r.all ?? "");
    if (r.exitCode !== 0 && !/v\d/.test(text))
      throw new InfrastructureError(
        `gpioset --version failed${r.exitCode === undefined ? " (is libgpiod's gpioset installed? apt-get install gpiod)" : ` (exit ${r.exitCode})`}: ${text.trim() || r.message}`,
      );
    const m = /v(\d+)\./.exec(text);
    return m && Number(m[1]) >= 2 ? 2 : 1;
  })();
  versionPromise.catch(() => {
    versionPromise = undefined;
  });
  return versionPromise;
}

export function resetGpioVersion(): void {
  versionPromise = undefined;
}

/** Stops every holder (process exit, tests). Lines go back to undefined state. */
export async function releaseAllGpio(): Promise<void> {
  const all = [...holders.values()];
  holders.clear();
  await Promise.all(all.map((h) => stop(h)));
}

process.once("exit", () => {
  for (const h of holders.values()) if (!h.exited) h.process.kill("SIGTERM");
});

async function stop(holder: Holder): Promise<void> {
  if (!holder.exited) holder.process.kill("SIGTERM");
  await holder.process.catch(() => {});
}

export class GpioLine implements OutputLine {
  readonly backend = "gpio";
  readonly #key: string;

  constructor(
    private readonly spec: GpioSpec,
    private readonly owner: string,
    private readonly clock: Clock,
    private readonly commandMs: number,
    private readonly confirmMs = GPIO_CONFIRM_MS,
  ) {
    this.#key = `${spec.chip.replace(/^\/dev\//, "")}:${spec.line}`;
  }

  async set(asserted: boolean): Promise<void> {
    const version = await gpiosetVersion(this.commandMs).catch((error: Error) => {
      throw error instanceof InfrastructureError
        ? new InfrastructureError(`${this.owner}: ${error.message}`)
        : error;
    });
    const old = holders.get(this.#key);
    if (old && !old.exited && old.value === asserted) return;
    if (old) {
      holders.delete(this.#key);
      await stop(old);
    }
    const value = asserted ? "1" : "0";
    const low = this.spec.activeLow ? ["--active-low"] : [];
    const args =
      version === 1
        ? ["--mode=signal", ...low, this.spec.chip, `${this.spec.line}=${value}`]
        : ["--banner", ...low, "--chip", this.spec.chip, `${this.spec.line}=${value}`];
    const child = execa("gpioset", args, {
      reject: false,
      stdin: "ignore",
      stdout: "pipe",
      stderr: "pipe",
    });
    const holder: Holder = { process: child, value: asserted, exited: false, stderr: "" };
    child.stderr?.on("data", (chunk: Buffer) => {
      holder.stderr += chunk.toString();
    });
    const exited = child.then((r) => {
      holder.exited = true;
      return r;
    });
    // Failing to request the line ends gpioset at once. v2: the banner says it holds the line;
    // v1: still up after the confirmation time.
    const stopWaiting = new AbortController();
    const banner =
      version === 2
        ? new Promise<undefined>((resolve) => child.stdout?.once("data", () => resolve(undefined)))
        : new Promise<undefined>(() => {});
    const waitMs = version === 2 ? this.commandMs : this.confirmMs;
    const early = await Promise.race([
      exited.then((r) => r),
      banner,
      this.clock.sleep(waitMs, stopWaiting.signal).then(() => "timeout" as const),
    ]);
    stopWaiting.abort();
    if (early === "timeout" && version === 2) {
      await stop(holder);
      throw new InfrastructureError(
        `${this.owner}: gpioset ${args.join(" ")} printed no banner within ${this.commandMs} ms`,
      );
    }
    if (early !== undefined && early !== "timeout") {
      const detail =
        holder.stderr.trim() || (early.failed ? String(early.message) : `exit ${early.exitCode}`);
      throw new InfrastructureError(
        `${this.owner}: gpioset ${args.join(" ")} could not hold ${this.spec.chip} line ${this.spec.line}: ${detail}`,
      );
    }
    holders.set(this.#key, holder);
  }

  async get(): Promise<boolean | undefined> {
    const h = holders.get(this.#key);
    return h && !h.exited ? h.value : undefined;
  }
}
