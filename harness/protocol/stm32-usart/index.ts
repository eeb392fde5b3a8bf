/** AN3155 USART bootloader codecs: pure functions and tables, no I/O. */
export * from "./annotate.js";
export * from "./checksum.js";
export * from "./commands.js";
export * from "./constants.js";
export * from "./errors.js";
export * from "./frame.js";
