/**
 * A USART bootloader transcript read in AN3155 terms, one line per command: the client's
 * note naming the operation, then what went out and came back chained onto it ("Write
 * Memory 0x08000000+256 → WriteMemory (0x31) → ACK → address 0x08000000 → ACK → 257 bytes +
 * checksum → ACK"). Bytes that fit no AN3155 frame are counted, not guessed at.
 */
import type { TranscriptAnnotator } from "../../seams/transcript.js";
import { ACK, commandName, NACK, SYNC } from "./constants.js";

const xor = (bytes: Uint8Array, end: number) => {
  let x = 0;
  for (let i = 0; i < end; i++) x ^= bytes[i]!;
  return x;
};

function sent(b: Uint8Array): string {
  if (b.length === 1 && b[0] === SYNC) return "sync 0x7F";
  if (b.length === 2 && b[0] === 0xff && b[1] === 0x00) return "resync 0xFF 0x00";
  if (b.length === 2 && (b[0]! ^ b[1]!) === 0xff) return commandName(b[0]!);
  const checked = b.length >= 2 && xor(b, b.length - 1) === b[b.length - 1];
  if (b.length === 5 && checked) {
    const address = ((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0;
    return `address 0x${address.toString(16).padStart(8, "0")}`;
  }
  // N−1 count + data + checksum (Write Memory) also XORs to zero over all its bytes.
  return checked ? `${b.length - 1} bytes + checksum` : `${b.length} byte${b.length === 1 ? "" : "s"}`;
}

function received(b: Uint8Array): string {
  if (b.length === 1 && b[0] === ACK) return "ACK";
  if (b.length === 1 && b[0] === NACK) return "NACK";
  const acks = b[0] === ACK ? "ACK + " : b[0] === NACK ? "NACK + " : "";
  const rest = acks ? b.length - 1 : b.length;
  return `${acks}${rest} byte${rest === 1 ? "" : "s"}`;
}

/** The annotator the USART bootloader client sets on its transcript. */
export const annotateUsart: TranscriptAnnotator = (entry) => {
  if (entry.dir === "event") return entry.note ? { text: entry.note } : undefined;
  if (!entry.bytes) return undefined;
  if (entry.dir === "tx") return { text: sent(entry.bytes), follows: true };
  if (entry.dir === "rx") {
    const timeout = entry.note ? ` (${entry.note})` : "";
    return { text: `${entry.bytes.length ? received(entry.bytes) : "nothing"}${timeout}`, follows: true };
  }
  return undefined;
};
