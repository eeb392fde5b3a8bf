/**
 * `hil emulate <profile> --usbip [HOST:]PORT`: the board's USB port on a USB/IP server.
 * Default host 127.0.0.1 (USB/IP is unauthenticated); the bus id is always 1-1.
 */
import { serveUsbip, type UsbipServer, type UsbipSource } from "./usbip-server.js";

export const USBIP_DEFAULT_PORT = 3240;

export interface UsbipAddress {
  host: string;
  port: number;
}

/**
 * "3240", "127.0.0.1:3240", "0.0.0.0:3240", "[::1]:3240".
 * @throws {RangeError} naming what is wrong.
 */
export function parseUsbipAddress(text: string): UsbipAddress {
  const m = /^(?:(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):)?(\d{1,5})$/.exec(text.trim());
  const port = m ? Number(m[2]) : Number.NaN;
  if (!m || !(port >= 0 && port <= 65535))
    throw new RangeError(
      `expected [HOST:]PORT (e.g. ${USBIP_DEFAULT_PORT} or 127.0.0.1:${USBIP_DEFAULT_PORT}), got '${text}'`,
    );
  const host = m[1]?.replace(/^\[(.*)\]$/, "$1") ?? "127.0.0.1";
  return { host, port };
}

export function serveUsbipPort(
  port: UsbipSource,
  at: UsbipAddress,
  log: (line: string) => void,
): Promise<UsbipServer> {
  return serveUsbip(port, { host: at.host, port: at.port, busid: "1-1", log });
}
