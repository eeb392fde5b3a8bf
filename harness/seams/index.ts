/**
 * Layer 0: the types every layer agrees on, and a few helpers that need nothing else. It
 * imports nothing from the rest of harness/ (test/architecture/layers.spec.ts checks it).
 */
export type { BoardView } from "./board-view.js";
export { bytesEqual, concatBytes, firstDifference, firstNotEqualTo } from "./bytes.js";
export type { Clock } from "./clock.js";
export type { BootControl, PowerControl, PowerState, ResetControl } from "./controls.js";
export {
  type DeviceEvent,
  type EmulatorView,
  type FiredFaultView,
  MAX_EVENTS,
  type PowerEventView,
} from "./device-log.js";
export { CAPABILITIES, type Capability, FAMILIES, type Family, RIG_FILE_CAPABILITIES } from "./family.js";
export {
  DFU_STATUS_PREFIX,
  type FaultView,
  type FaultWhatView,
  type FaultWhere,
  formatFault,
  formatWhat,
} from "./faults-format.js";
export type { FlashOpKind, FlashSnapshotView, FlashView, SectorView } from "./flash-view.js";
export { projectRoot } from "./paths.js";
export type {
  SetupPacket,
  TranscriptAnnotator,
  TranscriptDir,
  TranscriptEntry,
  TransferStatus,
} from "./transcript.js";
