/**
 * A TKey transcript read in the firmware protocol's terms: each frame as its endpoint and
 * command or response ("FW_CMD_LOAD_APP_DATA (fw, 128 B) → header (fw, 4 B) →
 * FW_RSP_LOAD_APP_DATA OK"),
 * replies chained onto their command. Bytes that are not one whole frame (a chunk split
 * by the serial driver, a malformed frame sent on purpose) are counted, not guessed at.
 */
import type { TranscriptAnnotator } from "../../seams/transcript.js";
import { FW_CMD_NAMES, FwRsp, STATUS_OK } from "./firmware.js";
import { decodeHeader, FRAME_LENGTHS } from "./frame.js";

const ENDPOINTS = ["reserved", "hw", "fw", "app"] as const;

const RSP_NAMES = new Map<number, string>(
  Object.entries(FwRsp).map(([name, code]) => [code, `FW_RSP_${name}`]),
);

/** Responses whose first payload byte after the code is a status. */
const WITH_STATUS = new Set<number>([FwRsp.LOAD_APP, FwRsp.LOAD_APP_DATA, FwRsp.LOAD_APP_DATA_READY]);

function frame(bytes: Uint8Array, command: boolean): string {
  const h = decodeHeader(bytes[0]!);
  if (bytes.length !== 1 + h.length || h.reservedBit)
    return `${bytes.length} byte${bytes.length === 1 ? "" : "s"} (not one whole frame)`;
  const where = `${ENDPOINTS[h.endpoint]}, ${h.length} B${h.nok ? ", NOK" : ""}`;
  const code = bytes[1]!;
  if (h.endpoint !== 2) return `frame (${where})`;
  if (command) return `${FW_CMD_NAMES[code] ?? `command 0x${code.toString(16)}`} (${where})`;
  const name = RSP_NAMES.get(code) ?? `response 0x${code.toString(16)}`;
  const status = WITH_STATUS.has(code) ? (bytes[2] === STATUS_OK ? " OK" : " STATUS_BAD") : "";
  return `${name}${status}`;
}

/** A response payload without its header (the client reads the header byte first). */
function payload(bytes: Uint8Array): string | undefined {
  const name = RSP_NAMES.get(bytes[0]!);
  if (!name || !(FRAME_LENGTHS as readonly number[]).includes(bytes.length)) return undefined;
  const status = WITH_STATUS.has(bytes[0]!) ? (bytes[1] === STATUS_OK ? " OK" : " STATUS_BAD") : "";
  return `${name}${status}`;
}

function received(bytes: Uint8Array): string {
  if (bytes.length === 1) {
    const h = decodeHeader(bytes[0]!);
    return `header (${ENDPOINTS[h.endpoint]}, ${h.length} B${h.nok ? ", NOK" : ""})`;
  }
  return payload(bytes) ?? frame(bytes, false);
}

/** The annotator the TKey client sets on its transcript. */
export const annotateTKey: TranscriptAnnotator = (entry) => {
  if (!entry.bytes) return undefined;
  if (entry.dir === "tx") return { text: entry.bytes.length ? frame(entry.bytes, true) : "0 bytes" };
  if (entry.dir === "rx") {
    const why = entry.note ? ` (${entry.note})` : "";
    return { text: `${entry.bytes.length ? received(entry.bytes) : "nothing"}${why}`, follows: true };
  }
  return undefined;
};
