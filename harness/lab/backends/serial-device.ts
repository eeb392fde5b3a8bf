/**
 * Shared by the backends that talk to a serial instrument (SCPI bench supply, relay board):
 * find the port by identity at every use (it may have re-enumerated), open it, run one
 * exchange, close it. Another process holding the port (serialport locks it) is waited
 * for, up to the command timeout. Every failure is an {@link InfrastructureError}: a relay
 * board that does not answer is the lab's fault, never the firmware's.
 */
import type { ByteStream } from "../../transport/byte-stream.js";
import type { Clock } from "../../transport/clock.js";
import { ReadTimeoutError } from "../../transport/errors.js";
import { openSerialPort } from "../../transport/serial-port-stream.js";
import { InfrastructureError } from "../errors.js";
import { describeSerial, type SerialIdentity, waitForSerialPort } from "../locate.js";

export interface SerialDeviceSpec extends SerialIdentity {
  readonly baudRate?: number | undefined;
}

export interface SerialDeviceContext {
  /** "board wb55-nucleo: power (scpi)", for messages. */
  readonly owner: string;
  readonly clock: Clock;
  /** Time limit of one exchange, including waiting for the port and for a lock held by another process. */
  readonly commandMs: number;
  readonly env?: NodeJS.ProcessEnv;
}

/** Extra time the port stays open after the last write's bytes are on the line. */
export const LINGER_MS = 20;

/** Exchanges on one port, one at a time per process (boot and reset lines often share a relay board). */
const queues = new Map<string, Promise<unknown>>();

export async function withSerialDevice<T>(
  spec: SerialDeviceSpec,
  defaultBaud: number,
  ctx: SerialDeviceContext,
  exchange: (stream: ByteStream) => Promise<T>,
): Promise<T> {
  const key = spec.byId ?? `usb-serial:${spec.usbSerial}`;
  const before = queues.get(key) ?? Promise.resolve();
  const run = before.catch(() => {}).then(() => once(spec, defaultBaud, ctx, exchange));
  queues.set(
    key,
    run.catch(() => {}),
  );
  return run;
}

async function once<T>(
  spec: SerialDeviceSpec,
  defaultBaud: number,
  ctx: SerialDeviceContext,
  exchange: (stream: ByteStream) => Promise<T>,
): Promise<T> {
  const deadline = ctx.clock.now() + ctx.commandMs;
  const path = await waitForSerialPort(ctx.owner, spec, {
    clock: ctx.clock,
    timeoutMs: ctx.commandMs,
    ...(ctx.env ? { env: ctx.env } : {}),
  });
  let stream: ByteStream | undefined;
  for (;;) {
    try {
      stream = await openSerialPort(path, { baudRate: spec.baudRate ?? defaultBaud, clock: ctx.clock });
      break;
    } catch (error) {
      const locked = /lock|busy/i.test((error as Error).message);
      if (!locked || ctx.clock.now() >= deadline)
        throw new InfrastructureError(`${ctx.owner}: ${(error as Error).message}`, { cause: error });
      await ctx.clock.sleep(50);
    }
  }
  // What was written must leave before the port closes: a pty drops unread output on the
  // last close, and not every USB-serial driver waits. Time on the line at 10 bits a byte.
  let written = 0;
  const write = stream.write.bind(stream);
  stream.write = (bytes: Uint8Array) => {
    written += bytes.length;
    return write(bytes);
  };
  try {
    const result = await exchange(stream);
    if (written > 0)
      await ctx.clock.sleep(Math.ceil((written * 10_000) / (spec.baudRate ?? defaultBaud)) + LINGER_MS);
    return result;
  } catch (error) {
    if (error instanceof InfrastructureError) throw error;
    throw new InfrastructureError(
      `${ctx.owner}: ${describeSerial(spec)} (${path}): ${(error as Error).message}`,
      { cause: error },
    );
  } finally {
    await stream.close();
  }
}

/**
 * Reads up to and including `terminator`; returns the text before it (a trailing "\r" dropped).
 * @throws {InfrastructureError} when nothing complete arrives within `timeoutMs`, with what did.
 */
export async function readLine(
  stream: ByteStream,
  clock: Clock,
  timeoutMs: number,
  what: string,
  terminator = "\n",
): Promise<string> {
  const end = terminator.charCodeAt(0);
  const deadline = clock.now() + timeoutMs;
  const bytes: number[] = [];
  for (;;) {
    const left = Math.max(0, deadline - clock.now());
    let byte: Uint8Array;
    try {
      byte = await stream.read(1, { timeoutMs: left });
    } catch (error) {
      if (error instanceof ReadTimeoutError) {
        const got = Buffer.from(bytes).toString("latin1");
        throw new InfrastructureError(
          `no answer to ${what} within ${timeoutMs} ms${got ? ` (got ${JSON.stringify(got)})` : ""}`,
        );
      }
      throw error;
    }
    if (byte[0] === end) return Buffer.from(bytes).toString("latin1").replace(/\r$/, "");
    bytes.push(byte[0]!);
  }
}

/** Drains whatever is buffered, waiting `quietMs` for more (echoes and prompts a device sends unasked). */
export async function drain(stream: ByteStream, quietMs: number): Promise<Uint8Array> {
  const out: number[] = [];
  for (;;) {
    const now = stream.readAvailable();
    if (now.length) out.push(...now);
    try {
      const more = await stream.read(1, { timeoutMs: quietMs });
      out.push(...more);
    } catch (error) {
      if (error instanceof ReadTimeoutError) return Uint8Array.from(out);
      throw error;
    }
  }
}
