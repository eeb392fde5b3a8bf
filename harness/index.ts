/**
 * The suites' public entry: everything a suite needs from the harness besides the host
 * clients (harness/clients/**) and the protocol codecs (harness/protocol/**). Suites never
 * import harness/devices/** or harness/sim/** (biome's noRestrictedImports): what they may
 * know of an emulator is the board's `strategy` and `inspect`.
 */

export {
  type CampaignFailure,
  type CampaignOptions,
  type CampaignResult,
  runCampaign,
} from "./campaign/campaign.js";
export { boardFamilyOf, campaignFamilies } from "./campaign/families/index.js";
export { clausesOf, INVARIANT_IDS, type InvariantId } from "./campaign/invariants.js";
export { summaryLines } from "./campaign/summary.js";
export type { Inspect, InspectByKind, InspectKind } from "./devices/inspect-of.js";
export type { Nrf52840Inspect } from "./devices/nrf52840-mcuboot/inspect.js";
export { buildImage as buildSimNorImage } from "./devices/sim-nor/image.js";
export type { SimNorInspect } from "./devices/sim-nor/inspect.js";
export { customerTestKey } from "./devices/stm32/fus/test-keys.js";
export type { Stm32Inspect } from "./devices/stm32/inspect.js";
export { profileForFamily, type Stm32Profile } from "./devices/stm32/profiles.js";
export type { UsartQuirks } from "./devices/stm32/usart/quirks.js";
export type { TKeyInspect } from "./devices/tkey/inspect.js";
export { irreversibleGuard, irreversibleRefusal } from "./lab/interlock.js";
export { usbFilterOf } from "./lab/locate.js";
export { forEachBoard } from "./mocha/suite.js";
export { covers } from "./report/clause.js";
export { evidenceNote, expectFlash } from "./report/evidence.js";
export { expectError } from "./report/expect-error.js";
export { flashChai } from "./report/flash-assert.js";
export { diffFlash, sectorMap } from "./report/flash-diff.js";
export { skipWithReason } from "./report/skip.js";
export type { Board, Capability, Family } from "./rig/board.js";
export { CAPABILITIES, FAMILIES } from "./rig/board.js";
export { inspectIf, inspectSkipReason, requireInspect } from "./rig/require-inspect.js";
export type { Rig } from "./rig/rig.js";
export { getRig } from "./rig/rig.js";
export type { BoardNeed } from "./rig/select.js";
export { SmpLink } from "./rig/smp-link.js";
export { openTKeyLink } from "./rig/tkey-link.js";
export { openUsartLink } from "./rig/usart-link.js";
export { appUsbFilter, usbBusOf } from "./rig/usb-link.js";
export { bytesEqual, firstDifference } from "./seams/bytes.js";
export type { BoardState, FactoryOptions, Restorable, Strategy } from "./seams/strategy.js";
export type { FaultWhere } from "./sim/faults.js";
export type { FlashSnapshot } from "./sim/flash.js";
export { Random } from "./sim/random.js";
export {
  type CuttableFlash,
  everyPoint,
  flashOpCut,
  type SweepOutcome,
  type SweepResult,
  type SweepSpec,
  shareOf,
  sweep,
} from "./sim/sweep.js";
export type { ByteStream } from "./transport/byte-stream.js";
export type { UsbBus, UsbFilter } from "./transport/usb.js";
