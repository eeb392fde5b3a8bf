/**
 * A transcript of USB control transfers read in DFU/DfuSe terms, for reports:
 * "Set Address Pointer 0x08000000", "DNLOAD blk=37 len=2048", "GETSTATUS dfuDNBUSY
 * poll=22ms", "UPLOAD blk=2 len=2048". Replies and follow-up polls chain onto the request
 * they answer. Requests that are not DFU class requests keep the transcript's own line.
 */
import type { TranscriptAnnotator, TranscriptEntry } from "../../seams/transcript.js";
import { decodeDfuseCommand, hex32 } from "./dfuse-commands.js";
import { BM_REQUEST_TYPE_IN, BM_REQUEST_TYPE_OUT, DfuRequest } from "./requests.js";
import { stateName, statusName } from "./states.js";
import { decodeStatus } from "./status.js";

function outcome(entry: TranscriptEntry): string {
  return entry.status && entry.status !== "ok" ? ` ${entry.status.toUpperCase()}` : "";
}

function dnload(entry: TranscriptEntry, block: number, data: Uint8Array): string {
  if (block !== 0) return `DNLOAD blk=${block} len=${data.length}`;
  if (data.length === 0) return "DNLOAD zero-length (leave)";
  try {
    const cmd = decodeDfuseCommand(data);
    switch (cmd.kind) {
      case "get-commands":
        return "DfuSe Get Commands";
      case "set-address":
        return `DfuSe Set Address Pointer ${hex32(cmd.address)}`;
      case "erase-page":
        return `DfuSe Erase page ${hex32(cmd.address)}`;
      case "mass-erase":
        return "DfuSe Mass erase";
      case "read-unprotect":
        return "DfuSe Read Unprotect";
    }
  } catch {
    return `DNLOAD blk=0 len=${data.length} (not a DfuSe command)${outcome(entry)}`;
  }
}

function getStatus(bytes: Uint8Array | undefined): string {
  if (bytes?.length !== 6) return `GETSTATUS (${bytes?.length ?? 0} bytes)`;
  const s = decodeStatus(bytes);
  const status = s.status === 0 ? "" : ` ${statusName(s.status)}`;
  const poll = s.pollTimeoutMs > 0 ? ` poll=${s.pollTimeoutMs}ms` : "";
  return `GETSTATUS ${stateName(s.state)}${status}${poll}`;
}

/** The annotator a DFU client sets on its transcript. */
export const annotateDfu: TranscriptAnnotator = (entry) => {
  const setup = entry.setup;
  if (!setup) return undefined;
  if (setup.bmRequestType !== BM_REQUEST_TYPE_OUT && setup.bmRequestType !== BM_REQUEST_TYPE_IN)
    return undefined;
  const stalled = outcome(entry);
  switch (setup.bRequest) {
    case DfuRequest.DNLOAD:
      return { text: `${dnload(entry, setup.wValue, entry.bytes ?? new Uint8Array(0))}${stalled}` };
    case DfuRequest.UPLOAD:
      return { text: `UPLOAD blk=${setup.wValue} len=${entry.bytes?.length ?? 0}${stalled}` };
    case DfuRequest.GETSTATUS:
      return { text: stalled ? `GETSTATUS${stalled}` : getStatus(entry.bytes), follows: true };
    case DfuRequest.GETSTATE:
      return {
        text:
          stalled || !entry.bytes?.length ? `GETSTATE${stalled}` : `GETSTATE ${stateName(entry.bytes[0]!)}`,
        follows: true,
      };
    case DfuRequest.CLRSTATUS:
      return { text: `CLRSTATUS${stalled}` };
    case DfuRequest.ABORT:
      return { text: `ABORT${stalled}` };
    case DfuRequest.DETACH:
      return { text: `DETACH${stalled}` };
    default:
      return undefined;
  }
};
