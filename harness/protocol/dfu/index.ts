/** DFU 1.1 + ST DfuSe: pure codecs, tables and firmware-file inputs (no I/O). */

export * from "./annotate.js";
export * from "./crc32.js";
export * from "./dfuse-commands.js";
export * from "./dfuse-file.js";
export * from "./functional-descriptor.js";
export * from "./image.js";
export * from "./image-error.js";
export * from "./memory-map.js";
export * from "./requests.js";
export * from "./states.js";
export * from "./status.js";
export * from "./suffix.js";
