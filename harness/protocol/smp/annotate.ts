/**
 * An SMP-over-serial transcript read in SMP terms: the client's note per request, the
 * frame it sent ("write group 1 id 1 seq 3, 312 B body") and what came back, chained. A
 * request frame is decoded from its own bytes; replies arrive in pieces the serial driver
 * chose, so they are counted, and a whole reply frame is decoded when it came in one piece.
 */
import type { TranscriptAnnotator } from "../../transport/transcript.js";
import { SerialFrameDecoder } from "./serial.js";

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
  if (entry.dir === "event") return entry.note ? { text: entry.note } : undefined;
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
