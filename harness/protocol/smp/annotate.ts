/**
 * An SMP-over-serial transcript read in SMP terms: the client's note per request, the
 * frame it sent ("write group 1 id 1 seq 3, 312 B body"), what came back, and the client's
 * reading of the reply ("reply seq 3: IMG_MGMT_ERR_… (n)"), chained. A request frame is
 * decoded from its own bytes; replies arrive in pieces the serial driver chose, so they are
 * counted (a whole reply frame is decoded when it came in one piece) and the rc comes from
 * the client, which reassembled the reply.
 */
import type { TranscriptAnnotator } from "../../seams/transcript.js";
import { rcName, replyError } from "./groups.js";
import { SerialFrameDecoder } from "./serial.js";

const REPLY = "reply seq ";

/** The client's note on a matched reply; the annotator chains it onto its request's line. */
export function replyNote(seq: number, body: Record<string, unknown>): string {
  const error = replyError(body);
  if (!error) return `${REPLY}${seq}: ok`;
  return `${REPLY}${seq}: ${rcName(error.rc, error.group)}${error.reason ? ` (${error.reason})` : ""}`;
}

const OPS = ["read", "read-rsp", "write", "write-rsp"] as const;

function packets(bytes: Uint8Array): string | undefined {
  const found = new SerialFrameDecoder({ maxPacket: 0xffff }).push(bytes);
  if (found.length === 0) return undefined;
  return found
    .map(
      ({ header: h }) =>
        `${OPS[h.op] ?? `op ${h.op}`} group ${h.group} id ${h.id} seq ${h.seq}, ${h.length} B body`,
    )
    .join("; ");
}

const count = (n: number) => `${n} byte${n === 1 ? "" : "s"}`;

/** The annotator the SMP client sets on its transcript. */
export const annotateSmp: TranscriptAnnotator = (entry) => {
  if (entry.dir === "event") {
    if (!entry.note) return undefined;
    return entry.note.startsWith(REPLY) ? { text: entry.note, follows: true } : { text: entry.note };
  }
  if (!entry.bytes) return undefined;
  const read = packets(entry.bytes);
  if (entry.dir === "tx")
    return { text: read ?? `${count(entry.bytes.length)} (no whole frame)`, follows: true };
  if (entry.dir === "rx") {
    const why = entry.note ? ` (${entry.note})` : "";
    return {
      text: `${read ?? (entry.bytes.length ? count(entry.bytes.length) : "nothing")}${why}`,
      follows: true,
    };
  }
  return undefined;
};
