/**
 * The USART bootloader link of a board, emulated or on a lab rack: the same client code
 * runs over either. Emulated: a fresh in-memory line to the emulator's USART on the board's
 * virtual clock. Lab: the board's serial port found by identity (a /dev/serial/by-id link
 * or the adapter's USB serial number), opened 8E1 as AN3155 wants, re-resolved on every
 * call because the path can change when the adapter re-enumerates; or a rack host's
 * ser2net port (rfc2217: 8E1 and DTR/RTS set over the wire).
 */

import { attachSignalStream } from "../lab/backends/dtr-rts.js";
import type { ByteStream } from "../transport/byte-stream.js";
import type { Board } from "./board.js";
import { trackBoardLink } from "./board-links.js";
import { openBoardSerial } from "./serial-link.js";

/** The harness's USART baud rate when the rig names none. */
const DEFAULT_USART_BAUD = 115_200;

export async function openUsartLink(board: Board): Promise<ByteStream> {
  const baudRate = board.serialPort?.baudRate ?? DEFAULT_USART_BAUD;
  // An emulated ROM auto-bauds as a real one: its line time follows the rate opened here.
  if (board.emulator) return board.emulator.port("usart", { baudRate });
  const { stream: port } = await openBoardSerial(board, {
    baudRate,
    parity: "even",
  });
  // DTR/RTS boot and reset sequences run on the port the client holds (stm32flash -i style).
  attachSignalStream(board.id, port);
  return trackBoardLink(board.id, port);
}

/**
 * A lab board's serial port path now, found by identity through the board's locator: waits
 * up to the board's enumeration timeout, then its settle delay; a port that does not come
 * back is an InfrastructureError listing what is there.
 */
export async function serialPortPath(board: Board): Promise<string> {
  if (!board.locator) throw new Error(`board ${board.id}: not a lab board, it has no serial port to find`);
  return board.locator.serialPort();
}
