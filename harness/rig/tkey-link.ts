/**
 * A board's TKey link: the CDC serial port a TKey is to the host. Emulated: a fresh
 * in-memory line to the emulated firmware on the board's virtual clock. Lab: the port found
 * by identity (by-id link or USB serial number), re-resolved on every call because a
 * replug re-enumerates it, opened at the TKey's 62500 baud, 8N1.
 */
import type { ByteStream } from "../transport/byte-stream.js";
import { openSerialPort } from "../transport/serial-port-stream.js";
import type { Board } from "./board.js";
import { trackBoardLink } from "./board-links.js";
import { serialPortPath } from "./usart-link.js";

export const TKEY_BAUD = 62500;

export async function openTKeyLink(board: Board): Promise<ByteStream> {
  if (board.emulator) return board.emulator.port("tkey");
  const path = await serialPortPath(board);
  const port = await openSerialPort(path, {
    baudRate: board.serialPort?.baudRate ?? TKEY_BAUD,
    parity: "none",
    clock: board.clock,
  });
  return trackBoardLink(board.id, port);
}
