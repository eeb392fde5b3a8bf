/**
 * Opens a lab board's serial port, wherever it is: on this host (found by identity through
 * the board's locator, opened with `serialport`) or on a rack host (ser2net's RFC 2217
 * accepter, where the line settings and DTR/RTS go over the wire; or a raw TCP port). The
 * links (USART, TKey, SMP) call this and never care which; a ser2net port is a stable
 * name, so after a power cycle the same address finds the same board, as a by-id link does.
 */
import type { ByteStream } from "../transport/byte-stream.js";
import type { Parity } from "../transport/rfc2217-codec.js";
import { openRfc2217 } from "../transport/rfc2217-stream.js";
import { openSerialPort } from "../transport/serial-port-stream.js";
import { openTcpStream } from "../transport/tcp-stream.js";
import type { Board } from "./board.js";

export interface BoardSerialOptions {
  baudRate: number;
  parity: Parity;
  /** Longest wait for a local port to appear (default the board's enumeration timeout). */
  timeoutMs?: number;
}

export interface OpenedSerial {
  readonly stream: ByteStream & { readonly warnings?: readonly string[] };
  /** The local path opened (a by-id link), undefined for a port on a rack host. */
  readonly path: string | undefined;
}

/**
 * @throws {InfrastructureError} when the port does not appear, or a rack host's port does
 *   not connect or answer (naming host and port); {@link Error} naming the path when a
 *   local port is there but does not open.
 */
export async function openBoardSerial(board: Board, opts: BoardSerialOptions): Promise<OpenedSerial> {
  if (!board.locator) throw new Error(`board ${board.id}: not a lab board, it has no serial port to open`);
  const remote = board.locator.remoteSerial;
  const clock = board.clock;
  const timeoutMs = board.timeouts?.commandMs;
  if (remote?.kind === "rfc2217") {
    const stream = await openRfc2217(remote.address, {
      baudRate: opts.baudRate,
      parity: opts.parity,
      clock,
      ...(timeoutMs ? { timeoutMs } : {}),
    });
    return { stream, path: undefined };
  }
  if (remote?.kind === "tcp")
    return {
      stream: await openTcpStream(remote.address, { clock, ...(timeoutMs ? { timeoutMs } : {}) }),
      path: undefined,
    };
  const path = await board.locator.serialPort(
    opts.timeoutMs === undefined ? {} : { timeoutMs: opts.timeoutMs },
  );
  return {
    stream: await openSerialPort(path, { baudRate: opts.baudRate, parity: opts.parity, clock }),
    path,
  };
}

/**
 * For health checks: a rack host's serial port answers (RFC 2217: COM-PORT-OPTION agreed
 * and the baud rate set; raw TCP: a connection). Says what answered.
 * @throws {InfrastructureError} naming host and port when it does not.
 */
export async function probeRemoteSerial(board: Board): Promise<string> {
  const remote = board.locator?.remoteSerial;
  if (!remote) throw new Error(`board ${board.id}: its serial port is not on a rack host`);
  const { stream } = await openBoardSerial(board, {
    baudRate: board.serialPort?.baudRate ?? 115200,
    parity: "none",
  });
  await stream.close();
  return remote.kind === "rfc2217"
    ? `rfc2217 ${remote.address} answers COM-PORT-OPTION`
    : `tcp ${remote.address} accepts connections`;
}
