/**
 * Firmware commands and responses (TKey firmware protocol). Every command frame goes to
 * endpoint 2; the payload starts with the command code, every response with its response
 * code, and both are zero-padded to their fixed length. Integers are little-endian.
 */
import { Endpoint, encodeFrame, type FrameLength } from "./frame.js";

export const FwCmd = { NAME_VERSION: 0x01, LOAD_APP: 0x03, LOAD_APP_DATA: 0x05, GET_UDI: 0x08 } as const;
export type FwCmd = (typeof FwCmd)[keyof typeof FwCmd];

export const FwRsp = {
  NAME_VERSION: 0x02,
  LOAD_APP: 0x04,
  LOAD_APP_DATA: 0x06,
  LOAD_APP_DATA_READY: 0x07,
  GET_UDI: 0x09,
} as const;
export type FwRsp = (typeof FwRsp)[keyof typeof FwRsp];

export const STATUS_OK = 0;
export const STATUS_BAD = 1;

/** Frame payload length of each command; the firmware halts on any other length. */
export const FW_CMD_LENGTH: Readonly<Record<FwCmd, FrameLength>> = {
  [FwCmd.NAME_VERSION]: 1,
  [FwCmd.LOAD_APP]: 128,
  [FwCmd.LOAD_APP_DATA]: 128,
  [FwCmd.GET_UDI]: 1,
};

export const FW_RSP_LENGTH: Readonly<Record<FwRsp, FrameLength>> = {
  [FwRsp.NAME_VERSION]: 32,
  [FwRsp.LOAD_APP]: 4,
  [FwRsp.LOAD_APP_DATA]: 4,
  [FwRsp.LOAD_APP_DATA_READY]: 128,
  [FwRsp.GET_UDI]: 32,
};

export const FW_CMD_NAMES: Readonly<Record<number, string>> = {
  [FwCmd.NAME_VERSION]: "FW_CMD_NAME_VERSION",
  [FwCmd.LOAD_APP]: "FW_CMD_LOAD_APP",
  [FwCmd.LOAD_APP_DATA]: "FW_CMD_LOAD_APP_DATA",
  [FwCmd.GET_UDI]: "FW_CMD_GET_UDI",
};

/** RAM for the app (128 KiB since TK1-23.03): LOAD_APP with a larger size answers STATUS_BAD. */
export const APP_MAX_SIZE = 0x20000;
/** App bytes per LOAD_APP_DATA: 128-byte frame minus the command code. */
export const CHUNK_SIZE = 127;
/** tkeyclient sends every firmware command with frame ID 2 (headers 0x50, 0x53). */
export const DEFAULT_FRAME_ID = 2;
export const USS_SIZE = 32;
export const DIGEST_SIZE = 32;

export function chunkCount(appSize: number): number {
  return Math.ceil(appSize / CHUNK_SIZE);
}

function fwCommand(id: number, cmd: FwCmd, data: Uint8Array = new Uint8Array(0)): Uint8Array {
  const payload = new Uint8Array(1 + data.length);
  payload[0] = cmd;
  payload.set(data, 1);
  return encodeFrame({ id, endpoint: Endpoint.firmware, nok: false, length: FW_CMD_LENGTH[cmd] }, payload);
}

export function encodeNameVersionCmd(id = DEFAULT_FRAME_ID): Uint8Array {
  return fwCommand(id, FwCmd.NAME_VERSION);
}

export function encodeGetUdiCmd(id = DEFAULT_FRAME_ID): Uint8Array {
  return fwCommand(id, FwCmd.GET_UDI);
}

export interface LoadAppArgs {
  /** App size in bytes; any u32 (the firmware, not the codec, judges it). */
  size: number;
  /** The USS field as sent (32 bytes); absent means flag 0 and a zero field. */
  uss?: Uint8Array | undefined;
  /** The flag byte when a USS is given (default 1); tkeyclient ≤ v1.2.0 sent uss[0] here. */
  ussFlag?: number | undefined;
}

/** Wire: size at frame[2..5] LE, flag at frame[6], USS at frame[7..38]. */
export function encodeLoadAppCmd(args: LoadAppArgs, id = DEFAULT_FRAME_ID): Uint8Array {
  if (!Number.isInteger(args.size) || args.size < 0 || args.size > 0xffff_ffff)
    throw new RangeError(`app size must be a u32, got ${args.size}`);
  if (args.uss && args.uss.length !== USS_SIZE)
    throw new RangeError(`USS must be ${USS_SIZE} bytes, got ${args.uss.length}`);
  const data = new Uint8Array(5 + USS_SIZE);
  new DataView(data.buffer).setUint32(0, args.size, true);
  if (args.uss) {
    data[4] = args.ussFlag ?? 1;
    data.set(args.uss, 5);
  }
  return fwCommand(id, FwCmd.LOAD_APP, data);
}

export interface LoadAppRequest {
  size: number;
  /** Any nonzero flag byte means a USS is present (the firmware tests `!= 0`). */
  ussProvided: boolean;
  uss: Uint8Array;
}

/** The command payload (code at [0]) as the firmware reads it. */
export function decodeLoadAppCmd(payload: Uint8Array): LoadAppRequest {
  if (payload.length < 6 + USS_SIZE) throw new RangeError(`LOAD_APP payload too short: ${payload.length}`);
  return {
    size: new DataView(payload.buffer, payload.byteOffset).getUint32(1, true),
    ussProvided: payload[5] !== 0,
    uss: payload.slice(6, 6 + USS_SIZE),
  };
}

/** One chunk of at most 127 app bytes; the rest of the frame is zero padding. */
export function encodeLoadAppDataCmd(chunk: Uint8Array, id = DEFAULT_FRAME_ID): Uint8Array {
  if (chunk.length > CHUNK_SIZE)
    throw new RangeError(`a chunk holds at most ${CHUNK_SIZE} bytes, got ${chunk.length}`);
  return fwCommand(id, FwCmd.LOAD_APP_DATA, chunk);
}

/** The app cut into 127-byte chunks, the last one short (padded on encoding). */
export function splitApp(app: Uint8Array): Uint8Array[] {
  const chunks: Uint8Array[] = [];
  for (let off = 0; off < app.length; off += CHUNK_SIZE) chunks.push(app.subarray(off, off + CHUNK_SIZE));
  return chunks;
}

function fwResponse(id: number, rsp: FwRsp, data: Uint8Array): Uint8Array {
  const payload = new Uint8Array(1 + data.length);
  payload[0] = rsp;
  payload.set(data, 1);
  // The firmware never sends NOK: the status bit is always 0.
  return encodeFrame({ id, endpoint: Endpoint.firmware, nok: false, length: FW_RSP_LENGTH[rsp] }, payload);
}

export interface NameVersion {
  /** 4 ASCII characters each: "tk1 " and "mkdf" on every release. */
  name0: string;
  name1: string;
  version: number;
}

function ascii4(s: string): Uint8Array {
  if (s.length !== 4 || [...s].some((c) => c.charCodeAt(0) > 0x7f))
    throw new RangeError(`name must be 4 ASCII characters, got ${JSON.stringify(s)}`);
  return Uint8Array.from(s, (c) => c.charCodeAt(0));
}

export function encodeNameVersionRsp(nv: NameVersion, id = DEFAULT_FRAME_ID): Uint8Array {
  const data = new Uint8Array(12);
  data.set(ascii4(nv.name0), 0);
  data.set(ascii4(nv.name1), 4);
  new DataView(data.buffer).setUint32(8, nv.version >>> 0, true);
  return fwResponse(id, FwRsp.NAME_VERSION, data);
}

export function encodeStatusRsp(
  rsp: typeof FwRsp.LOAD_APP | typeof FwRsp.LOAD_APP_DATA,
  status: number,
  id = DEFAULT_FRAME_ID,
): Uint8Array {
  return fwResponse(id, rsp, Uint8Array.of(status));
}

export function encodeLoadAppDataReadyRsp(
  status: number,
  digest: Uint8Array,
  id = DEFAULT_FRAME_ID,
): Uint8Array {
  if (digest.length !== DIGEST_SIZE) throw new RangeError(`digest must be ${DIGEST_SIZE} bytes`);
  const data = new Uint8Array(1 + DIGEST_SIZE);
  data[0] = status;
  data.set(digest, 1);
  return fwResponse(id, FwRsp.LOAD_APP_DATA_READY, data);
}

export function encodeGetUdiRsp(
  status: number,
  words: readonly [number, number],
  id = DEFAULT_FRAME_ID,
): Uint8Array {
  const data = new Uint8Array(9);
  data[0] = status;
  const view = new DataView(data.buffer);
  view.setUint32(1, words[0] >>> 0, true);
  view.setUint32(5, words[1] >>> 0, true);
  return fwResponse(id, FwRsp.GET_UDI, data);
}

/** A firmware response payload (code at [0]) decoded by its code. */
export type FwResponse =
  | { rsp: typeof FwRsp.NAME_VERSION; nameVersion: NameVersion }
  | { rsp: typeof FwRsp.LOAD_APP | typeof FwRsp.LOAD_APP_DATA; status: number }
  | { rsp: typeof FwRsp.LOAD_APP_DATA_READY; status: number; digest: Uint8Array }
  | { rsp: typeof FwRsp.GET_UDI; status: number; words: [number, number] };

export function decodeFwResponse(payload: Uint8Array): FwResponse {
  const code = payload[0];
  const expected = FW_RSP_LENGTH[code as FwRsp];
  if (expected === undefined) throw new RangeError(`unknown firmware response code 0x${code?.toString(16)}`);
  if (payload.length !== expected)
    throw new RangeError(
      `response 0x${code!.toString(16)} needs ${expected} payload bytes, got ${payload.length}`,
    );
  const view = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
  const text = (at: number) => String.fromCharCode(...payload.subarray(at, at + 4));
  switch (code) {
    case FwRsp.NAME_VERSION:
      return {
        rsp: code,
        nameVersion: { name0: text(1), name1: text(5), version: view.getUint32(9, true) },
      };
    case FwRsp.LOAD_APP:
    case FwRsp.LOAD_APP_DATA:
      return { rsp: code, status: payload[1]! };
    case FwRsp.LOAD_APP_DATA_READY:
      return { rsp: code, status: payload[1]!, digest: payload.slice(2, 2 + DIGEST_SIZE) };
    default:
      return {
        rsp: FwRsp.GET_UDI,
        status: payload[1]!,
        words: [view.getUint32(2, true), view.getUint32(6, true)],
      };
  }
}
