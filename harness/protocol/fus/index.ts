export * from "./bootloader.js";
export * from "./constants.js";
export * from "./device-info.js";
export * from "./footer.js";
export * from "./placement.js";
