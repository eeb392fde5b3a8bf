/** TKey host client: probe, name/version, UDI, app loading with digest check; every read timed out. */
export * from "./client.js";
export * from "./errors.js";
export * from "./events.js";
