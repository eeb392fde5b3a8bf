/**
 * The protocol codecs, the package's `update-hil/protocol` entry: one namespace per protocol
 * document (pure functions and tables, no I/O). Each is also its own entry,
 * `update-hil/protocol/<document>`, for named imports.
 */

export * as dfu from "./dfu/index.js";
export * as fus from "./fus/index.js";
export * as mcuboot from "./mcuboot/index.js";
export * as smp from "./smp/index.js";
export * as stm32Usart from "./stm32-usart/index.js";
export * as tkey from "./tkey/index.js";
export * as usbip from "./usbip/index.js";
