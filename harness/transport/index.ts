/** The transport layer's public API: what clients, rigs and emulators import. */
export * from "./byte-pair.js";
export * from "./byte-stream.js";
export * from "./clock.js";
export { fromHex, type HexDumpOptions, hexDump, toHex } from "./hex.js";
export * from "./serial-port-stream.js";
export * from "./transcript.js";
export * from "./usb.js";
