/**
 * DfuSe memory-map strings, the alt-setting names of ST bootloaders (AN3156 §4; the format
 * dfu-util, webdfu and qFlipper parse):
 *   @Internal Flash  /0x08000000/0128*0002Kg
 *   @Option Bytes  /0x1FF00000/01*040 e/0x1FF01000/01*040 e
 * `count*size` with multiplier B/space (1), K, M, then a type letter a..g whose value
 * (letter − 'a' + 1) has bit0 readable, bit1 erasable, bit2 writable.
 */
import { DfuPayloadError } from "./status.js";

export interface MemoryAccess {
  readable: boolean;
  erasable: boolean;
  writable: boolean;
}

export interface MemorySegment {
  count: number;
  /** Sector size in bytes. */
  size: number;
  access: MemoryAccess;
}

export interface MemoryRegion {
  address: number;
  segments: MemorySegment[];
}

export interface MemoryMap {
  name: string;
  regions: MemoryRegion[];
}

export interface MemorySector {
  start: number;
  size: number;
  access: MemoryAccess;
}

const MULTIPLIERS: Record<string, number> = { B: 1, " ": 1, "": 1, K: 1024, M: 1024 * 1024 };

export function accessFromLetter(letter: string): MemoryAccess {
  const bits = letter.charCodeAt(0) - 0x61 + 1;
  return { readable: (bits & 1) !== 0, erasable: (bits & 2) !== 0, writable: (bits & 4) !== 0 };
}

export function letterFromAccess(a: MemoryAccess): string {
  const bits = (a.readable ? 1 : 0) | (a.erasable ? 2 : 0) | (a.writable ? 4 : 0);
  if (bits === 0) throw new RangeError("a memory segment must allow at least one of read, erase, write");
  return String.fromCharCode(0x61 + bits - 1);
}

/**
 * Parses tolerantly: spaces around fields, zero-padded numbers, a missing multiplier.
 * @throws {DfuPayloadError} naming the character offset of the first bad field.
 */
export function parseMemoryMap(text: string): MemoryMap {
  const bad = (offset: number, what: string) =>
    new DfuPayloadError(`memory map "${text}": ${what} at character ${offset}`);
  if (!text.startsWith("@")) throw bad(0, "expected '@'");
  const fields = text.slice(1).split("/");
  const name = fields[0]!.trim();
  if (fields.length < 3 || (fields.length - 1) % 2 !== 0)
    throw bad(text.length, "expected /ADDRESS/SEGMENTS after the name");
  const regions: MemoryRegion[] = [];
  let offset = 1 + fields[0]!.length + 1;
  for (let i = 1; i < fields.length; i += 2) {
    const addrText = fields[i]!;
    const am = /^\s*0x([0-9a-fA-F]{1,8})\s*$/.exec(addrText);
    if (!am) throw bad(offset, `address '${addrText}' is not 0x followed by hex digits`);
    offset += addrText.length + 1;
    const segText = fields[i + 1]!;
    const segments: MemorySegment[] = [];
    let segOffset = offset;
    for (const part of segText.split(",")) {
      const sm = /^\s*(\d+)\s*\*\s*(\d+)\s*([BKM ]?)\s*([a-g])\s*$/.exec(part);
      if (!sm) throw bad(segOffset, `segment '${part}' is not COUNT*SIZE[B|K|M]TYPE (type a..g)`);
      const count = Number(sm[1]);
      const size = Number(sm[2]) * MULTIPLIERS[sm[3]!.trim() === "" ? "" : sm[3]!]!;
      if (count === 0 || size === 0) throw bad(segOffset, `segment '${part}' is empty`);
      segments.push({ count, size, access: accessFromLetter(sm[4]!) });
      segOffset += part.length + 1;
    }
    offset += segText.length + 1;
    regions.push({ address: Number.parseInt(am[1]!, 16), segments });
  }
  return { name, regions };
}

/** Canonical text: the shape ST ROMs use (zero-padded count, K/M when exact, a space for bytes). */
export function formatMemoryMap(map: MemoryMap): string {
  const regions = map.regions.map((r) => {
    const segs = r.segments.map((s) => `${pad(s.count, 2)}*${sizeText(s.size)}${letterFromAccess(s.access)}`);
    return `/0x${r.address.toString(16).toUpperCase().padStart(8, "0")}/${segs.join(",")}`;
  });
  return `@${map.name}${regions.join("")}`;
}

function sizeText(size: number): string {
  if (size % (1024 * 1024) === 0) return `${pad(size / (1024 * 1024), 3)}M`;
  if (size % 1024 === 0) return `${pad(size / 1024, 3)}K`;
  return `${pad(size, 3)} `;
}

function pad(n: number, width: number): string {
  return String(n).padStart(width, "0");
}

/** Every sector of the map, in address order. */
export function* sectors(map: MemoryMap): Generator<MemorySector> {
  for (const region of map.regions) {
    let start = region.address;
    for (const seg of region.segments) {
      for (let i = 0; i < seg.count; i++) {
        yield { start, size: seg.size, access: seg.access };
        start += seg.size;
      }
    }
  }
}

/** The sector holding `address`, or undefined when the map does not cover it. */
export function sectorAt(map: MemoryMap, address: number): MemorySector | undefined {
  for (const region of map.regions) {
    let start = region.address;
    for (const seg of region.segments) {
      const end = start + seg.count * seg.size;
      if (address >= start && address < end) {
        const i = Math.floor((address - start) / seg.size);
        return { start: start + i * seg.size, size: seg.size, access: seg.access };
      }
      start = end;
    }
  }
  return undefined;
}

/** Sectors overlapping [address, address+length), each once; undefined if any byte is unmapped. */
export function sectorsTouched(map: MemoryMap, address: number, length: number): MemorySector[] | undefined {
  const out: MemorySector[] = [];
  let at = address;
  const end = address + Math.max(length, 1);
  while (at < end) {
    const s = sectorAt(map, at);
    if (!s) return undefined;
    out.push(s);
    at = s.start + s.size;
  }
  return out;
}

/** Whether [address, address+length) is mapped with `need` on every byte. */
export function covers(map: MemoryMap, address: number, length: number, need: keyof MemoryAccess): boolean {
  return sectorsTouched(map, address, length)?.every((s) => s.access[need]) ?? false;
}
