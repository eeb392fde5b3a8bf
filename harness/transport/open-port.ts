/**
 * A port named on the command line (`hil usart --port`, and the USART bench, which measures
 * that path): a pty — `hil emulate --uart-pty` or a vendor tool on the other end — goes
 * through node's own tty handle (./tty-stream.ts: nothing to configure, no native binding),
 * anything else is a real serial port (`serialport`, baud rate and parity as given). `notes`
 * says what the port could not honour.
 */
import type { ByteStream } from "./byte-stream.js";
import type { Clock } from "./clock.js";
import { openSerialPort, type SerialPortOptions } from "./serial-port-stream.js";
import { isPty, openPty } from "./tty-stream.js";

export async function openPort(
  path: string,
  opts: SerialPortOptions & { clock: Clock },
): Promise<{ stream: ByteStream; notes: string[] }> {
  if (isPty(path)) {
    const stream = openPty(path, { clock: opts.clock });
    const asked = `${opts.baudRate} baud${opts.parity && opts.parity !== "none" ? `, ${opts.parity} parity` : ""}`;
    return { stream, notes: [`${path} is a pty: it has no baud rate or parity (asked for ${asked})`] };
  }
  const stream = await openSerialPort(path, opts);
  return { stream, notes: stream.warnings };
}
