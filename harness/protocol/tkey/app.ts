/**
 * The device-app side convention (tkey-libs apps, not the firmware): a running app answers
 * a firmware probe (any frame for endpoint 2) with NOK and one zero byte, and an unknown
 * app command with response code 0xff.
 */
import { Endpoint, encodeFrame } from "./frame.js";

export const APP_RSP_UNKNOWN_CMD = 0xff;

/** `genhdr(id, 2, NOK, LEN_1)` then 0x00: `54 00` for ID 2. */
export function encodeAppNokReply(id: number): Uint8Array {
  return encodeFrame({ id, endpoint: Endpoint.firmware, nok: true, length: 1 }, Uint8Array.of(0));
}

/** An OK app frame of one byte carrying APP_RSP_UNKNOWN_CMD. */
export function encodeAppUnknownCmdReply(id: number): Uint8Array {
  return encodeFrame(
    { id, endpoint: Endpoint.app, nok: false, length: 1 },
    Uint8Array.of(APP_RSP_UNKNOWN_CMD),
  );
}
