export * from "./annotate.js";
export * from "./cbor.js";
export * from "./cbor-keys.js";
export * from "./crc16.js";
export * from "./groups.js";
export * from "./header.js";
export * from "./message.js";
export * from "./serial.js";
