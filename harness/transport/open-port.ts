/**
 * A port named on the command line (`hil usart --port`, and the USART bench, which measures
 * that path): a pty — `hil emulate --uart-pty` or a vendor tool on the other end — goes
 * through node's own tty handle (./tty-stream.ts: nothing to configure, no native binding),
 * anything else is a real serial port (`serialport`, baud rate and parity as given). `notes`
 * says what the port could not honour. `rfc2217:host:port` and `tcp:host:port` reach a port
 * on a rack host (./rfc2217-stream.ts, ./tcp-stream.ts).
 */
import type { ByteStream } from "./byte-stream.js";
import type { Clock } from "./clock.js";
import { openRfc2217 } from "./rfc2217-stream.js";
import { openSerialPort, type SerialPortOptions } from "./serial-port-stream.js";
import { openTcpStream } from "./tcp-stream.js";
import { isPty, openPty } from "./tty-stream.js";

export async function openPort(
  path: string,
  opts: SerialPortOptions & { clock: Clock },
): Promise<{ stream: ByteStream; notes: string[] }> {
  // A rack host's port: "rfc2217:rack3:3001" (ser2net's telnet accepter) or "tcp:rack3:4001".
  if (path.startsWith("rfc2217:")) {
    const stream = await openRfc2217(path.slice("rfc2217:".length), opts);
    return { stream, notes: stream.warnings };
  }
  if (path.startsWith("tcp:"))
    return {
      stream: await openTcpStream(path.slice("tcp:".length), { clock: opts.clock }),
      notes: [
        `${path} is a raw TCP port: the line settings are the server's (asked for ${opts.baudRate} baud)`,
      ],
    };
  if (isPty(path)) {
    const stream = openPty(path, { clock: opts.clock });
    const asked = `${opts.baudRate} baud${opts.parity && opts.parity !== "none" ? `, ${opts.parity} parity` : ""}`;
    return { stream, notes: [`${path} is a pty: it has no baud rate or parity (asked for ${asked})`] };
  }
  const stream = await openSerialPort(path, opts);
  return { stream, notes: stream.warnings };
}
