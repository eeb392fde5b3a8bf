// The control seams moved to harness/seams/controls.ts (layer 0); re-exported so existing imports keep working.
export type { BootControl, PowerControl, PowerState, ResetControl } from "../seams/controls.js";
