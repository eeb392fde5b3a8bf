export * from "./chai.js";
export * from "./client.js";
export * from "./errors.js";
export * from "./links.js";
export * from "./trace.js";
