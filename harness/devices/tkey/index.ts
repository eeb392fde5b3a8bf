/** The emulated Tillitis TKey: firmware state machine, profiles, app stand-ins. */
export * from "./app.js";
export * from "./device.js";
export * from "./firmware.js";
export * from "./options.js";
export * from "./profiles.js";
