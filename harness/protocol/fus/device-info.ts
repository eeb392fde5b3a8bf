/**
 * Device information table (AN5185 §6.1.1 Table 4) as FUS writes it in SRAM2a, with the
 * byte offsets of mbox_def.h's MB_FUS_DeviceInfoTable_t (fact sheet §5.3): +36 is a reserved
 * word that Table 4 does not list, UID64 at +40, device ID at +48. Little-endian.
 */

import { type ErrorCategory, HilError } from "../../seams/errors.js";
import { DEVICE_INFO_VALID } from "./constants.js";

export const DEVICE_INFO_SIZE = 52;

export interface DeviceInfoTable {
  /** 0xA94656B9 when valid. */
  state: number;
  lastFusActiveState: number;
  lastWirelessStackState: number;
  wirelessStackType: number;
  safeBootVersion: number;
  fusVersion: number;
  fusMemorySize: number;
  /** 0xFFFFFFFF when no stack is present (this and the next three). */
  wirelessStackVersion: number;
  wirelessStackMemorySize: number;
  wirelessFwBleInfo: number;
  wirelessFwThreadInfo: number;
  uid64: bigint;
  deviceId: number;
}

export class DeviceInfoError extends HilError {
  static override readonly category: ErrorCategory = "device";
  constructor(
    readonly offset: number,
    message: string,
  ) {
    super(`device information table at offset ${offset}: ${message}`);
    this.name = "DeviceInfoError";
  }
}

export function encodeDeviceInfo(t: DeviceInfoTable): Uint8Array {
  const out = new Uint8Array(DEVICE_INFO_SIZE);
  const v = new DataView(out.buffer);
  v.setUint32(0, t.state >>> 0, true);
  out[4] = 0;
  out[5] = t.lastFusActiveState;
  out[6] = t.lastWirelessStackState;
  out[7] = t.wirelessStackType;
  v.setUint32(8, t.safeBootVersion >>> 0, true);
  v.setUint32(12, t.fusVersion >>> 0, true);
  v.setUint32(16, t.fusMemorySize >>> 0, true);
  v.setUint32(20, t.wirelessStackVersion >>> 0, true);
  v.setUint32(24, t.wirelessStackMemorySize >>> 0, true);
  v.setUint32(28, t.wirelessFwBleInfo >>> 0, true);
  v.setUint32(32, t.wirelessFwThreadInfo >>> 0, true);
  v.setUint32(36, 0, true);
  v.setBigUint64(40, BigInt.asUintN(64, t.uid64), true);
  v.setUint16(48, t.deviceId, true);
  return out;
}

/** @throws {DeviceInfoError} for a short buffer; validity is reported, not enforced (`valid`). */
export function decodeDeviceInfo(bytes: Uint8Array): DeviceInfoTable & { valid: boolean } {
  if (bytes.length < 50)
    throw new DeviceInfoError(bytes.length, `needs at least 50 bytes, got ${bytes.length}`);
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  const state = v.getUint32(0, true);
  return {
    state,
    valid: state === DEVICE_INFO_VALID,
    lastFusActiveState: bytes[5]!,
    lastWirelessStackState: bytes[6]!,
    wirelessStackType: bytes[7]!,
    safeBootVersion: v.getUint32(8, true),
    fusVersion: v.getUint32(12, true),
    fusMemorySize: v.getUint32(16, true),
    wirelessStackVersion: v.getUint32(20, true),
    wirelessStackMemorySize: v.getUint32(24, true),
    wirelessFwBleInfo: v.getUint32(28, true),
    wirelessFwThreadInfo: v.getUint32(32, true),
    uid64: v.getBigUint64(40, true),
    deviceId: v.getUint16(48, true),
  };
}

/** FUS version word address as CubeProgrammer reads it over USB DFU (`-r32 0x20030030`). */
export const FUS_VERSION_ADDRESS = 0x2003_0030;
