/**
 * What an emulated TKey charges per unit of the timed client operations
 * (report/operation-timing.ts names), for the timing report's "emulator" column.
 */
import { CHUNK_SIZE } from "../../protocol/tkey/index.js";
import { TKEY_TIMING, type TKeyTiming } from "./profiles.js";

/** A LOAD_APP_DATA frame on the line: header and 128 payload bytes; its reply: header and 4. */
const CHUNK_FRAME_BYTES = 1 + 128;
const CHUNK_REPLY_BYTES = 1 + 4;

/** Device ms per unit: "TKey app data" per frame, "TKey app load" per KiB; undefined for other operations. */
export function tkeyOperationMs(op: string, timing: TKeyTiming = TKEY_TIMING): number | undefined {
  const frameMs = (CHUNK_FRAME_BYTES + CHUNK_REPLY_BYTES) * timing.byteMs + timing.frameMs;
  switch (op) {
    case "TKey app data":
      return frameMs;
    case "TKey app load":
      return (1024 / CHUNK_SIZE) * frameMs + timing.hashMsPerKb;
    default:
      return undefined;
  }
}
