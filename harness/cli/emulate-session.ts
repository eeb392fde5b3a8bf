/**
 * What every `hil emulate` profile does around its device: stream the device log to stderr
 * with `--log`, then run until SIGINT/SIGTERM or until the served link dies (socat exited),
 * and say which. SIGHUP power-cycles the board (a replug); SIGUSR1 / SIGUSR2 switch its power
 * off / on, so a lab rig's `command` power backend can drive an emulator as it drives a relay
 * (`off: "kill -USR1 PID"`). Signals that come during a power transition wait for it
 * (power-signals.ts).
 */
import type { EmulatedDevice } from "../devices/emulated-device.js";
import { POWER_SIGNALS, PowerSignals } from "./power-signals.js";

export type StopReason = "SIGINT" | "SIGTERM" | "socat exited";

export interface EmulateSession {
  /** Resolves with why the emulator stops; the device log is flushed by then. */
  stopped: Promise<StopReason>;
}

/**
 * Starts the log stream (when `log`), the power signals and the wait for a stop. `linkLost`
 * resolves when the served pty or socket goes away; `booted` runs after each boot a power
 * signal started, if the board is still on.
 */
export function runEmulateSession(
  device: EmulatedDevice,
  opts: { log?: boolean | undefined; linkLost?: Promise<unknown> | undefined; booted?: () => void },
): EmulateSession {
  let printed = 0;
  const printLog = () => {
    const { events, dropped } = device.eventsSince(printed);
    if (dropped > 0) console.error(`(${dropped} events dropped before they were printed)`);
    for (const e of events) console.error(`${e.t.toFixed(1).padStart(9)} ms ${e.kind}: ${e.detail}`);
    printed = device.eventCount;
  };
  const ticker = opts.log ? setInterval(printLog, 200) : undefined;
  const power = new PowerSignals(device, {
    booted: opts.booted,
    say: (line) => console.error(`hil emulate: ${line}`),
  });
  const handlers = Object.entries(POWER_SIGNALS).map(([signal, request]) => {
    const handler = () => power.request(request, signal);
    process.on(signal, handler);
    return [signal, handler] as const;
  });
  let resolveStop: (reason: StopReason) => void = () => {};
  const onInt = () => resolveStop("SIGINT");
  const onTerm = () => resolveStop("SIGTERM");
  const stopped = new Promise<StopReason>((resolve) => {
    resolveStop = resolve;
    // `on`, not `once`: execa's signal-exit re-kills the process when, as its own listener
    // runs, it is the only one left; a `once` listener is gone by then whenever it ran first
    // (a socat respawned after ours was added puts signal-exit's listener after it).
    process.on("SIGINT", onInt);
    process.on("SIGTERM", onTerm);
    void opts.linkLost?.then(() => resolve("socat exited"));
  }).then((reason) => {
    process.off("SIGINT", onInt);
    process.off("SIGTERM", onTerm);
    for (const [signal, handler] of handlers) process.off(signal, handler);
    if (ticker) clearInterval(ticker);
    if (opts.log) printLog();
    return reason;
  });
  return { stopped };
}

/** The exit status of `hil emulate`: 1 when the link died under it, 0 on a signal. */
export function exitStatus(reason: StopReason): number {
  return reason === "socat exited" ? 1 : 0;
}
