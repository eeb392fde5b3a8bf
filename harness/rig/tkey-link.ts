/**
 * A board's TKey link: the CDC serial port a TKey is to the host. Emulated: a fresh
 * in-memory line to the emulated firmware on the board's virtual clock. Lab: the port found
 * by identity (by-id link or USB serial number), re-resolved on every call because a
 * replug re-enumerates it, opened at the TKey's 62500 baud, 8N1.
 *
 * On a lab board one link is open at a time: the port of an earlier plug-in belongs to a
 * TKey that is gone, and left open it keeps serialport's lock, so the next open fails with
 * "Cannot lock port". A fresh link waits until the TKey answers, since the port can be
 * there before the firmware listens (a by-id link that outlives the unplug, a port that
 * enumerates before the FPGA has booted); bytes sent earlier are lost and the firmware
 * would look silent.
 */
import { decodeHeader, encodeNameVersionCmd } from "../protocol/tkey/index.js";
import type { ByteStream } from "../transport/byte-stream.js";
import { ReadTimeoutError, StreamClosedError } from "../transport/errors.js";
import type { Board } from "./board.js";
import { trackBoardLink } from "./board-links.js";
import { openBoardSerial } from "./serial-link.js";

export const TKEY_BAUD = 62500;

/** How long one readiness probe waits for the answer: the firmware answers in microseconds. */
export const TKEY_READY_PROBE_MS = 200;

/** The open lab link of each board, by board id. */
const current = new Map<string, ByteStream>();

export async function openTKeyLink(board: Board): Promise<ByteStream> {
  if (board.emulator) return board.emulator.port("tkey");
  await closeTKeyLink(board.id);
  const deadline = board.clock.now() + (board.timeouts?.enumerateMs ?? 5000);
  for (;;) {
    const port = await openLabPort(board);
    // A port that goes while we wait was the last plug-in's (its link not yet removed): find it again.
    if ((await awaitTKey(port, board, deadline)) !== "gone" || board.clock.now() >= deadline) return port;
  }
}

async function openLabPort(board: Board): Promise<ByteStream> {
  const { stream: port } = await openBoardSerial(board, {
    baudRate: board.serialPort?.baudRate ?? TKEY_BAUD,
    parity: "none",
  });
  current.set(board.id, port);
  port.onClose(() => {
    if (current.get(board.id) === port) current.delete(board.id);
  });
  return trackBoardLink(board.id, port);
}

/** Closes the board's open lab TKey link, if any: before a replug, whose port will be another. */
export async function closeTKeyLink(boardId: string): Promise<void> {
  const port = current.get(boardId);
  current.delete(boardId);
  if (port && !port.closed) await port.close().catch(() => undefined);
}

/**
 * Probes (NAME_VERSION: the firmware answers, an app answers NOK) until the TKey answers,
 * the port goes, or `deadline` passes; then discards what came in, so the caller's client
 * starts on a clean line. A TKey that stays silent (halted after a bad frame) is left for
 * the caller's client to report. The probe is the link's, not a scenario's: it goes on the
 * port directly, not through a client, so no transcript, twin comparison or operation
 * timing counts it (an emulated board's link has no such probe).
 */
async function awaitTKey(
  port: ByteStream,
  board: Board,
  deadline: number,
): Promise<"answered" | "silent" | "gone"> {
  const { clock } = board;
  const timeoutMs = TKEY_READY_PROBE_MS;
  for (;;) {
    try {
      await port.write(encodeNameVersionCmd());
      // Any whole frame is an answer; read all of it, so none arrives after the flush.
      const header = decodeHeader((await port.read(1, { timeoutMs }))[0]!);
      await port.read(header.length, { timeoutMs });
      await port.flush();
      return "answered";
    } catch (e) {
      if (e instanceof StreamClosedError) return "gone";
      if (!(e instanceof ReadTimeoutError)) throw e;
      if (clock.now() >= deadline) {
        await port.flush();
        return "silent";
      }
    }
  }
}
