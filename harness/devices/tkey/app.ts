/**
 * What runs after a load. The emulator does not execute RISC-V code; a loaded app is
 * played by a TypeScript behaviour chosen by the app's digest. Whatever the behaviour,
 * firmware probes (endpoint 2) get the NOK reply of the tkey-libs convention.
 */
import {
  type DecodedHeader,
  Endpoint,
  encodeAppNokReply,
  encodeAppUnknownCmdReply,
} from "../../protocol/tkey/index.js";

/** What the app can see: its own digest, the CDI the firmware left it, the USS field if one was given. */
export interface AppContext {
  readonly digest: Uint8Array;
  readonly cdi: Uint8Array;
  readonly uss: Uint8Array | undefined;
}

export interface AppBehaviour {
  readonly name: string;
  /** A whole frame for endpoint 0, 1 or 3; returns the reply frame, or nothing for silence. */
  handle(header: DecodedHeader, payload: Uint8Array, ctx: AppContext): Uint8Array | undefined;
}

/** The app every load gets unless a behaviour is registered for its digest: it knows no command. */
export const UNKNOWN_COMMAND_APP: AppBehaviour = {
  name: "unknown-command app",
  handle(header) {
    return header.endpoint === Endpoint.app ? encodeAppUnknownCmdReply(header.id) : undefined;
  },
};

/** The running app's answer to one frame. */
export function appReply(
  behaviour: AppBehaviour,
  header: DecodedHeader,
  payload: Uint8Array,
  ctx: AppContext,
): Uint8Array | undefined {
  if (header.endpoint === Endpoint.firmware) return encodeAppNokReply(header.id);
  return behaviour.handle(header, payload, ctx);
}
