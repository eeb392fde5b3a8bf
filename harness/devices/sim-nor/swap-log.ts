import { crc32 } from "node:zlib";
import type { Flash } from "../../sim/flash.js";

/**
 * The updater's progress log: append-only 8-byte records (one program unit each) in a
 * dedicated sector, so an install interrupted anywhere resumes at the right step.
 *   0 magic 0xA5   1 kind   2 sector   3 step   4..7 CRC-32 of bytes 0..3
 * A record that does not check out (torn by a cut) is ignored; appending continues after
 * the last unit that is not erased, since a torn unit cannot be programmed again.
 */
export const RECORD_SIZE = 8;
const RECORD_MAGIC = 0xa5;

export enum RecordKind {
  Start = 1,
  Step = 2,
  Done = 3,
}

/** Per sector, the three copies of a swap through the scratch sector, in order. */
export enum SwapStep {
  PrimaryToScratch = 0,
  SecondaryToPrimary = 1,
  ScratchToSecondary = 2,
}

export interface LogRecord {
  kind: RecordKind;
  sector: number;
  step: number;
}

export function encodeRecord(r: LogRecord): Uint8Array {
  const out = new Uint8Array(RECORD_SIZE);
  out.set([RECORD_MAGIC, r.kind, r.sector, r.step]);
  new DataView(out.buffer).setUint32(4, crc32(out.subarray(0, 4)), true);
  return out;
}

export function decodeRecord(unit: Uint8Array): LogRecord | undefined {
  if (unit[0] !== RECORD_MAGIC) return undefined;
  if (new DataView(unit.buffer, unit.byteOffset, 8).getUint32(4, true) !== crc32(unit.subarray(0, 4)))
    return undefined;
  const kind = unit[1] as RecordKind;
  if (![RecordKind.Start, RecordKind.Step, RecordKind.Done].includes(kind)) return undefined;
  return { kind, sector: unit[2]!, step: unit[3]! };
}

export interface LogScan {
  records: LogRecord[];
  /** Address where the next record goes, or undefined when the sector is full. */
  nextAddress: number | undefined;
}

export function scanLog(flash: Flash, sectorStart: number, sectorSize: number): LogScan {
  const bytes = flash.read(sectorStart, sectorSize);
  const records: LogRecord[] = [];
  let lastUsed = -1;
  for (let off = 0; off < sectorSize; off += RECORD_SIZE) {
    const unit = bytes.subarray(off, off + RECORD_SIZE);
    if (unit.every((b) => b === flash.erasedValue)) continue;
    lastUsed = off;
    const r = decodeRecord(unit);
    if (r) records.push(r);
  }
  const next = lastUsed < 0 ? 0 : lastUsed + RECORD_SIZE;
  return { records, nextAddress: next < sectorSize ? sectorStart + next : undefined };
}
