/**
 * `dtr-rts` boot and reset controls: the serial adapter's DTR and RTS wired to NRST and
 * BOOT0, driven in sequences as stm32flash's `-i` option does (`dtr: true` asserts DTR,
 * which on an FTDI cable drives the pin low).
 *
 * The sequence must run on the port the client talks through: Linux raises DTR and RTS
 * when a tty is opened and, with HUPCL, drops them when it is closed, either of which can
 * reset the board. So a link that opens the board's port registers its stream with
 * {@link attachSignalStream}, and sequences run on it. With nothing attached the control
 * opens the port itself (found by identity) with HUPCL cleared, so the lines keep the
 * sequence's final state after it closes the port; the next open raises both lines again,
 * so attach where the wiring makes that matter.
 *
 * stm32flash's `-i` strings (`-dtr,rts,,dtr:-rts`) read into these steps with
 * stm32flash-sequence.ts.
 */

import type { BootControl, ResetControl } from "../../seams/controls.js";
import type { ByteStream, SerialSignals } from "../../transport/byte-stream.js";
import type { Clock } from "../../transport/clock.js";
import { openRfc2217, type Rfc2217Stream } from "../../transport/rfc2217-stream.js";
import { InfrastructureError } from "../errors.js";
import { remoteSerial, type SerialIdentity, waitForSerialPort } from "../locate.js";

export interface SignalStep {
  readonly dtr?: boolean | undefined;
  readonly rts?: boolean | undefined;
  readonly waitMs?: number | undefined;
}

const attached = new Map<string, ByteStream>();

/** Sequences for `boardId` run on `stream` until the returned function is called (or the stream closes). */
export function attachSignalStream(boardId: string, stream: ByteStream): () => void {
  attached.set(boardId, stream);
  const detach = () => {
    if (attached.get(boardId) === stream) attached.delete(boardId);
  };
  stream.onClose(detach);
  return detach;
}

export interface DtrRtsContext {
  readonly boardId: string;
  readonly port: SerialIdentity | undefined;
  readonly clock: Clock;
  readonly timeouts: { enumerateMs: number; commandMs: number };
  readonly env?: NodeJS.ProcessEnv;
  /** Opens the port when no stream is attached; default the `serialport` package's SerialPort. */
  readonly modemPort?: ModemPortFactory;
}

/** The part of serialport's `SerialPort` a sequence drives (its `SerialPortMock` fits, for tests). */
export interface ModemPort {
  open(callback: (error: Error | null) => void): void;
  set(signals: { dtr: boolean; rts: boolean }, callback: (error: Error | null) => void): unknown;
  close(callback: (error?: Error | null) => void): void;
}

export type ModemPortFactory = (options: {
  path: string;
  baudRate: number;
  hupcl: boolean;
  autoOpen: false;
}) => ModemPort;

async function serialPortFactory(): Promise<ModemPortFactory> {
  const { SerialPort } = await import("serialport");
  return (options) => new SerialPort(options);
}

/** Runs `steps` on the board's attached stream, or on the port opened for the purpose. */
export async function runSignalSequence(
  ctx: DtrRtsContext,
  what: string,
  steps: readonly SignalStep[],
): Promise<void> {
  const owner = `board ${ctx.boardId}: ${what} (dtr-rts)`;
  const stream = attached.get(ctx.boardId);
  if (stream && !stream.closed) {
    if (!stream.setSignals) throw new InfrastructureError(`${owner}: ${stream.name} has no modem lines`);
    await play(stream.setSignals.bind(stream), ctx.clock, steps, owner);
    return;
  }
  if (!ctx.port) throw new InfrastructureError(`${owner}: the board has no serial port in the rig file`);
  const remote = remoteSerial(ctx.port);
  if (remote) {
    await playRemote(ctx, owner, remote, steps);
    return;
  }
  const path = await waitForSerialPort(owner, ctx.port, {
    clock: ctx.clock,
    timeoutMs: ctx.timeouts.enumerateMs,
    ...(ctx.env ? { env: ctx.env } : {}),
  });
  const open = ctx.modemPort ?? (await serialPortFactory());
  const port = open({ path, baudRate: 115200, hupcl: false, autoOpen: false });
  await new Promise<void>((resolve, reject) => port.open((e) => (e ? reject(e) : resolve()))).catch(
    (e: Error) => {
      throw new InfrastructureError(`${owner}: cannot open ${path}: ${e.message}`, { cause: e });
    },
  );
  let signals = { dtr: true, rts: true }; // Linux raised both on open
  try {
    await play(
      (change) =>
        new Promise<void>((resolve, reject) => {
          const next = { dtr: change.dtr ?? signals.dtr, rts: change.rts ?? signals.rts };
          port.set(next, (e) => {
            if (e) return reject(e);
            signals = next;
            resolve();
          });
        }),
      ctx.clock,
      steps,
      owner,
    );
  } finally {
    await new Promise<void>((resolve) => port.close(() => resolve()));
  }
}

/**
 * On a rack host's ser2net port: SET-CONTROL over RFC 2217 on a connection of its own
 * (a raw TCP port has no modem lines).
 */
async function playRemote(
  ctx: DtrRtsContext,
  owner: string,
  remote: { kind: "rfc2217" | "tcp"; address: string },
  steps: readonly SignalStep[],
): Promise<void> {
  if (remote.kind === "tcp")
    throw new InfrastructureError(
      `${owner}: tcp ${remote.address} carries bytes only, no DTR/RTS (use rfc2217)`,
    );
  let stream: Rfc2217Stream;
  try {
    stream = await openRfc2217(remote.address, {
      baudRate: 115200,
      clock: ctx.clock,
      timeoutMs: ctx.timeouts.commandMs,
    });
  } catch (e) {
    throw new InfrastructureError(`${owner}: ${(e as Error).message}`, { cause: e });
  }
  try {
    await play(stream.setSignals.bind(stream), ctx.clock, steps, owner);
  } finally {
    await stream.close();
  }
}

async function play(
  set: (s: SerialSignals) => Promise<void>,
  clock: Clock,
  steps: readonly SignalStep[],
  owner: string,
): Promise<void> {
  for (const step of steps) {
    const change: SerialSignals = {};
    if (step.dtr !== undefined) change.dtr = step.dtr;
    if (step.rts !== undefined) change.rts = step.rts;
    if (change.dtr !== undefined || change.rts !== undefined) {
      try {
        await set(change);
      } catch (e) {
        throw new InfrastructureError(`${owner}: cannot set DTR/RTS: ${(e as Error).message}`, { cause: e });
      }
    }
    if (step.waitMs) await clock.sleep(step.waitMs);
  }
}

export function dtrRtsBoot(
  ctx: DtrRtsContext,
  sequences: { bootloader: readonly SignalStep[]; application: readonly SignalStep[] },
): BootControl {
  return {
    backend: "dtr-rts",
    bootloader: () => runSignalSequence(ctx, "boot bootloader", sequences.bootloader),
    application: () => runSignalSequence(ctx, "boot application", sequences.application),
  };
}

export function dtrRtsReset(ctx: DtrRtsContext, sequence: readonly SignalStep[]): ResetControl {
  return { backend: "dtr-rts", reset: () => runSignalSequence(ctx, "reset", sequence) };
}
