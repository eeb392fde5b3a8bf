/**
 * Synthetic FUS, wireless-stack and Safeboot images of the shape ST ships (measured on the
 * STM32CubeWB 1.1.0–1.24.0 coprocessor binaries, harness/protocol/fus/placement.ts),
 * deterministic for a label: seeded body, SHA-256 trailer, "ST" signature with the
 * emulator-only test key (test-keys.ts), optional customer
 * signature, and deliberately broken variants. Never real ST binaries.
 *
 * It lives beside the test key so campaigns reach it through devices/registry.ts;
 * fixtures/fus/build.ts re-exports it for the suites and the fixture generator.
 *
 * Layout: body | image footer | ST signature | ST footer (source byte 0x57)
 * [| customer signature | customer footer]. The image footer's flash size is the image (body +
 * image footer) rounded up to 4 KB sectors; the file ends `unused` bytes before the end of
 * that last sector, so neither the file nor the image footer ends on a sector boundary.
 */

import {
  encodeImageFooter,
  encodeSignatureFooter,
  FOOTER_SIZE,
  FUSV2_STACK_INFO1,
  FusMagic,
  type FusVersion,
  flashSectorsOf,
  SAFEBOOT_INFO1,
  SECTOR_SIZE,
  SIGNATURE_SIZE,
} from "../../../protocol/fus/index.js";
import { Random } from "../../../sim/random.js";
import { bodyDigest, DIGEST_SIZE, ST_TEST_SECRET, signedMessage, signFus } from "./test-keys.js";

/** ST signature + its footer: what follows the image footer in every ST file. */
const ST_TAIL = SIGNATURE_SIZE + FOOTER_SIZE;

export interface FusImageSpec {
  /**
   * wireless-stack (magic 0x23372991), fusv2-stack ("FUSv2 only", 0xB10C8B99, info1
   * 0x040104CD), fus (0x32279221), safeboot (2.0.1: 0x927A6741) or safeboot-2.0.0 (the stack
   * magic with info1 0x5AFEB007).
   */
  kind: "wireless-stack" | "fusv2-stack" | "fus" | "safeboot" | "safeboot-2.0.0";
  version: FusVersion;
  /** Flash size in 4 KB sectors (image footer). Give this or `fileSize`. */
  sectors?: number;
  /** Length of the ST file (without a customer signature), a multiple of 4. */
  fileSize?: number;
  /**
   * With `sectors`: bytes of the last sector the file leaves unused (ST's files: 4 to 4000;
   * negative when the signature tail spills into the next sector, as Thread_FTD 1.6.0 by 76).
   * Default: an odd amount drawn from the label.
   */
  unused?: number;
  sram2aKb?: number;
  sram2bKb?: number;
  /** Stack type (Table 4 "current wireless stack type"), carried in info1's low byte (emulator convention). */
  stackType?: number;
  /** Seeds the body. */
  label: string;
  /** Customer signature with this secret (AN5185 §4). */
  customerSecret?: Uint8Array;
  /** Broken variants. */
  defect?: "no-st-signature" | "bad-st-signature" | "corrupt-body" | "bad-magic" | "bad-customer-signature";
}

/** File length and flash sectors of a spec; throws naming the field that does not fit. */
export function fusImageSize(spec: FusImageSpec): { fileSize: number; sectors: number } {
  let fileSize = spec.fileSize;
  if (fileSize === undefined) {
    if (spec.sectors === undefined) throw new RangeError(`${spec.label}: give sectors or fileSize`);
    const unused = spec.unused ?? 84 + 4 * new Random(0x5f06).fork(spec.label).below(980);
    fileSize = spec.sectors * SECTOR_SIZE - unused;
  }
  if (fileSize % 4 !== 0 || fileSize < ST_TAIL + FOOTER_SIZE + DIGEST_SIZE + 4)
    throw new RangeError(`${spec.label}: file size ${fileSize} is not a 4-byte multiple of a usable length`);
  const sectors = flashSectorsOf(fileSize - ST_TAIL);
  if (spec.sectors !== undefined && spec.sectors !== sectors)
    throw new RangeError(
      `${spec.label}: ${fileSize} bytes hold an image of ${sectors} sectors, not ${spec.sectors} (unused out of range)`,
    );
  return { fileSize, sectors };
}

const MAGIC: Record<FusImageSpec["kind"], number> = {
  "wireless-stack": FusMagic.WIRELESS_STACK,
  "fusv2-stack": FusMagic.WIRELESS_STACK_V2,
  fus: FusMagic.FUS,
  safeboot: FusMagic.SAFEBOOT,
  "safeboot-2.0.0": FusMagic.WIRELESS_STACK,
};

function info1Of(spec: FusImageSpec): number {
  if (spec.kind === "safeboot-2.0.0") return SAFEBOOT_INFO1;
  if (spec.kind === "fusv2-stack") return FUSV2_STACK_INFO1;
  return spec.kind === "wireless-stack" ? (spec.stackType ?? 0x01) : 0;
}

export function v(major: number, minor: number, sub: number): FusVersion {
  return { major, minor, sub, branch: 0, build: 0 };
}

/** Built images by spec: suites and sweeps build the same few again for every test and cut. */
const built = new Map<string, Uint8Array>();

/** A fresh copy each time (callers may corrupt theirs). */
export function buildFusImage(spec: FusImageSpec): Uint8Array {
  const id = JSON.stringify(spec, (_, x) => (x instanceof Uint8Array ? [...x] : x));
  let image = built.get(id);
  if (!image) {
    image = buildOnce(spec);
    if (built.size >= 64) built.clear();
    built.set(id, image);
  }
  return image.slice();
}

function buildOnce(spec: FusImageSpec): Uint8Array {
  const { fileSize, sectors } = fusImageSize(spec);
  const bodyLength = fileSize - ST_TAIL - FOOTER_SIZE;
  const r = new Random(0x5f05).fork(spec.label);
  const body = r.bytes(bodyLength);
  body.set(bodyDigest(body.subarray(0, bodyLength - DIGEST_SIZE)), bodyLength - DIGEST_SIZE);
  const footer = encodeImageFooter({
    info1: info1Of(spec),
    info2: 0,
    memory: { flashSectors: sectors, sram2aKb: spec.sram2aKb ?? 8, sram2bKb: spec.sram2bKb ?? 4 },
    version: spec.version,
    magic: spec.defect === "bad-magic" ? 0x1234_5678 : MAGIC[spec.kind],
  });
  const message = signedMessage(footer, body.subarray(bodyLength - DIGEST_SIZE));
  const parts: Uint8Array[] = [body, footer];
  if (spec.defect !== "no-st-signature") {
    const sig = signFus(message, ST_TEST_SECRET);
    if (spec.defect === "bad-st-signature") sig[10]! ^= 0x40;
    parts.push(sig, encodeSignatureFooter({ source: "st", version: spec.version }));
  }
  if (spec.customerSecret) {
    const sig = signFus(message, spec.customerSecret);
    if (spec.defect === "bad-customer-signature") sig[3]! ^= 0x01;
    parts.push(sig, encodeSignatureFooter({ source: "customer", version: spec.version }));
  }
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  if (spec.defect === "corrupt-body") out[100]! ^= 0xff;
  return out;
}

/**
 * File sizes and flash sectors of ST's files (measured, STM32CubeWB 1.22.1–1.24.0 except
 * Thread_FTD) and their release notes' install address on a 1 MB part (1.24.0; Thread_FTD:
 * 1.7.0), reproduced by fixtures of the same shape. The bytes are the emulator's own.
 */
export const ST_SHAPES = {
  "FUS 2.2.0": { kind: "fus", fileSize: 24_468, sectors: 6, address: 0x080e_e000 },
  /** stm32wb5x_FUS_fw_1_2_0.bin: its footer states no version (all ones). */
  "FUS 1.2.0": { kind: "fus", fileSize: 24_492, sectors: 6, address: 0x080e_c000 },
  "BLE_Stack_full 1.24.0": { kind: "fusv2-stack", fileSize: 129_460, sectors: 32, address: 0x080d_0000 },
  "BLE_Stack_light 1.24.0": { kind: "fusv2-stack", fileSize: 99_752, sectors: 25, address: 0x080d_7000 },
  "BLE_Stack_full_extended 1.24.0": {
    kind: "fusv2-stack",
    fileSize: 165_288,
    sectors: 41,
    address: 0x080c_7000,
  },
  "BLE_HCILayer 1.24.0": { kind: "wireless-stack", fileSize: 76_104, sectors: 19, address: 0x080e_1000 },
  "Safeboot 2.0.0": { kind: "safeboot-2.0.0", fileSize: 7_316, sectors: 2, address: 0x080f_2000 },
  "Safeboot 2.0.1": { kind: "safeboot", fileSize: 4_244, sectors: 2, address: 0x080f_2000 },
  /** 1.6.0/1.7.0: the only file whose signature tail spills past its flash size (by 76 bytes). */
  "Thread_FTD 1.6.0": { kind: "wireless-stack", fileSize: 348_236, sectors: 85, address: 0x0809_e000 },
} as const satisfies Record<
  string,
  { kind: FusImageSpec["kind"]; fileSize: number; sectors: number; address: number }
>;

export type StShape = keyof typeof ST_SHAPES;

/** A fixture of an ST file's shape (size, sectors, magic), emulator-signed. */
export function shapedImage(
  shape: StShape,
  version: FusVersion,
  opts: Partial<Omit<FusImageSpec, "kind" | "sectors" | "fileSize" | "unused" | "version">> = {},
): Uint8Array {
  const s = ST_SHAPES[shape];
  return buildFusImage({
    label: shape,
    ...opts,
    kind: s.kind,
    fileSize: s.fileSize,
    sectors: s.sectors,
    version,
  });
}

/** The version word the FUS 1.2.0 files carry: all ones. */
export const UNSTATED: FusVersion = { major: 0xff, minor: 0xff, sub: 0xff, branch: 0xf, build: 0xf };

/** The images the suites use: a classic stack (BLE_HCILayer's shape), a "FUSv2 only" stack (BLE_Stack_full's), FUS 2.2.0. */
export const STACK_1 = (label = "stack-1.0.0") => shapedImage("BLE_HCILayer 1.24.0", v(1, 0, 0), { label });
export const STACK_2 = (label = "stack-2.0.0") => shapedImage("BLE_Stack_full 1.24.0", v(2, 0, 0), { label });
export const FUS_2_2_0 = (label = "fus-2.2.0") => shapedImage("FUS 2.2.0", v(2, 2, 0), { label });
