/** The DfuSe host client (lab and emulated rigs alike). */
export { DfuClient, type DfuOpenOptions, type DfuTimeouts } from "./client.js";
export { DfuError, type DfuErrorKind, isDisconnect } from "./errors.js";
export type { DfuEventName, DfuEvents } from "./events.js";
export { type DownloadPlan, planDownload } from "./plan.js";
