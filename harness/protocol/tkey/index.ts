/** Tillitis TKey: framing, firmware protocol, UDI, app convention and CDI (pure, no I/O). */
export * from "./annotate.js";
export * from "./app.js";
export * from "./cdi.js";
export * from "./firmware.js";
export * from "./frame.js";
export * from "./udi.js";
export * from "./usb.js";
