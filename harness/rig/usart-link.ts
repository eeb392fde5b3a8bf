/**
 * The USART bootloader link of a board, emulated or on a lab rack: the same client code
 * runs over either. Emulated: a fresh in-memory line to the emulator's USART on the board's
 * virtual clock. Lab: the board's serial port found by identity (a /dev/serial/by-id link
 * or the adapter's USB serial number), opened 8E1 as AN3155 wants, re-resolved on every
 * call because the path can change when the adapter re-enumerates.
 */
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { connectUsart } from "../devices/stm32/usart/port.js";
import type { ByteStream } from "../transport/byte-stream.js";
import { openSerialPort } from "../transport/serial-port-stream.js";
import type { Board } from "./board.js";

const BY_ID = "/dev/serial/by-id";

export async function openUsartLink(board: Board): Promise<ByteStream> {
  if (board.emulator) return connectUsart(board.emulator);
  const path = await serialPortPath(board);
  return openSerialPort(path, { baudRate: board.serialPort?.baudRate ?? 115200, parity: "even", clock: board.clock });
}

/** A lab board's serial port path now: its by-id link, or found by the adapter's USB serial number. */
export async function serialPortPath(board: Board): Promise<string> {
  const locator = board.serialPort;
  if (!locator)
    throw new Error(`board ${board.id}: no serial port in the rig file (serial: { byId | usbSerial })`);
  return locator.byId ?? (await findByUsbSerial(board.id, locator.usbSerial!));
}

async function findByUsbSerial(boardId: string, usbSerial: string): Promise<string> {
  const names = await readdir(BY_ID).catch(() => [] as string[]);
  // udev names them usb-<vendor>_<product>_<serial>-if<NN>[-port<N>].
  const hit = names.find((n) => n.includes(`_${usbSerial}-if`));
  if (!hit) throw new Error(`board ${boardId}: no serial port with USB serial ${usbSerial} under ${BY_ID}`);
  return join(BY_ID, hit);
}
