/**
 * FUS device timing table. [M] = modelled: ST publishes no figures; the values give installs
 * of tens of seconds as hosts see them (design.md: "a 40-second FUS install"), and the one
 * observed figure is used as is ([O] micropython rfcore_firmware.py: BLE_Stack_full takes
 * 3600 ms to answer the first GET_STATE after an install).
 */
export interface FusTiming {
  /** IPCC command → response while FUS runs [M]. */
  commandMs: number;
  /** Image scan + signature check before the first reset [M]. */
  verifyMs: number;
  /** Per 4 KB sector installed (decrypt + program) on top of the flash's own erase/program time [M]. */
  installPerSectorMs: number;
  /** FUS self-upgrade per sector [M]. */
  fusUpgradePerSectorMs: number;
  /** CPU2 start of FUS or of a stack after a reset [M]. */
  cpu2StartMs: number;
  /** First GET_STATE after a stack install is answered this late [O]. */
  firstGetStateAfterInstallMs: number;
  /** FW_DELETE / START_WS: from the command to FUS's first reset [M]. */
  prepareMs: number;
  /** Auth key / user key services [M]. */
  serviceMs: number;
}

export const FUS_TIMING: FusTiming = {
  commandMs: 1,
  verifyMs: 2000,
  installPerSectorMs: 400,
  fusUpgradePerSectorMs: 600,
  cpu2StartMs: 50,
  firstGetStateAfterInstallMs: 3600,
  prepareMs: 500,
  serviceMs: 20,
};

/**
 * A WB55 board's timing overlay (`emulated.options.timing`, a calibration file's `timing`)
 * names FUS figures beside the flash ones with a `fus` prefix: overlay key → FusTiming key.
 */
export const FUS_OVERLAY_KEYS: Readonly<Record<string, keyof FusTiming>> = {
  fusCommandMs: "commandMs",
  fusVerifyMs: "verifyMs",
  fusInstallPerSectorMs: "installPerSectorMs",
  fusUpgradePerSectorMs: "fusUpgradePerSectorMs",
  fusCpu2StartMs: "cpu2StartMs",
  fusFirstGetStateAfterInstallMs: "firstGetStateAfterInstallMs",
  fusPrepareMs: "prepareMs",
  fusServiceMs: "serviceMs",
};
