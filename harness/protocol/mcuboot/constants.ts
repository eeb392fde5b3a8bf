/** MCUboot image-format constants (bootutil image.h, bootutil_public.h). */

export const IMAGE_MAGIC = 0x96f3b83d;
/** Legacy (V1) header magic: recognised only to name it in errors. */
export const IMAGE_MAGIC_V1 = 0x96f3b83c;
export const IMAGE_HEADER_SIZE = 32;

export const TLV_INFO_MAGIC = 0x6907;
export const TLV_PROT_INFO_MAGIC = 0x6908;
export const TLV_INFO_SIZE = 4;
export const TLV_ENTRY_HEADER_SIZE = 4;

export const ImageFlag = {
  PIC: 0x1,
  ENCRYPTED_AES128: 0x4,
  ENCRYPTED_AES256: 0x8,
  NON_BOOTABLE: 0x10,
  RAM_LOAD: 0x20,
  ROM_FIXED: 0x100,
  COMPRESSED_LZMA1: 0x200,
  COMPRESSED_LZMA2: 0x400,
  COMPRESSED_ARM_THUMB: 0x800,
} as const;

export const TlvType = {
  KEYHASH: 0x01,
  PUBKEY: 0x02,
  SHA256: 0x10,
  SHA384: 0x11,
  SHA512: 0x12,
  RSA2048_PSS: 0x20,
  ECDSA224: 0x21,
  ECDSA_SIG: 0x22,
  RSA3072_PSS: 0x23,
  ED25519: 0x24,
  SIG_PURE: 0x25,
  ENC_RSA2048: 0x30,
  ENC_KW: 0x31,
  ENC_EC256: 0x32,
  ENC_X25519: 0x33,
  ENC_X25519_SHA512: 0x34,
  DEPENDENCY: 0x40,
  SEC_CNT: 0x50,
  BOOT_RECORD: 0x60,
  DECOMP_SIZE: 0x70,
  DECOMP_SHA: 0x71,
  DECOMP_SIGNATURE: 0x72,
  COMP_DEC_SIZE: 0x73,
  UUID_VID: 0x74,
  UUID_CID: 0x75,
} as const;

/** TLVs MCUboot accepts outside the protected area; every other type must be protected. */
export const UNPROTECTED_ALLOWED: ReadonlySet<number> = new Set([
  TlvType.KEYHASH,
  TlvType.PUBKEY,
  TlvType.SHA256,
  TlvType.SHA384,
  TlvType.SHA512,
  TlvType.RSA2048_PSS,
  TlvType.ECDSA224,
  TlvType.ECDSA_SIG,
  TlvType.RSA3072_PSS,
  TlvType.ED25519,
  TlvType.SIG_PURE,
  TlvType.ENC_RSA2048,
  TlvType.ENC_KW,
  TlvType.ENC_EC256,
  TlvType.ENC_X25519,
  TlvType.ENC_X25519_SHA512,
]);

export const SwapType = { NONE: 1, TEST: 2, PERM: 3, REVERT: 4, FAIL: 5, PANIC: 0xff } as const;
export type SwapType = (typeof SwapType)[keyof typeof SwapType];

export const BootMagicState = { GOOD: 1, BAD: 2, UNSET: 3 } as const;
export type BootMagicState = (typeof BootMagicState)[keyof typeof BootMagicState];

export const BootFlagState = { SET: 1, BAD: 2, UNSET: 3 } as const;
export type BootFlagState = (typeof BootFlagState)[keyof typeof BootFlagState];

/** Trailer magic when BOOT_MAX_ALIGN is 8. */
export const BOOT_MAGIC_ALIGN8 = Uint8Array.of(
  0x77,
  0xc2,
  0x95,
  0xf3,
  0x60,
  0xd2,
  0xef,
  0x7f,
  0x35,
  0x52,
  0x50,
  0x0f,
  0x2c,
  0xb6,
  0x79,
  0x80,
);
/** Trailer magic tail for other alignments, after a u16 LE of the alignment. */
export const BOOT_MAGIC_TAIL = Uint8Array.of(
  0x2d,
  0xe1,
  0x5d,
  0x29,
  0x41,
  0x0b,
  0x8d,
  0x77,
  0x67,
  0x9c,
  0x11,
  0x0f,
  0x1f,
  0x8a,
);
export const BOOT_MAGIC_SIZE = 16;
/** BOOT_MAX_IMG_SECTORS: the swap status area holds 3 entries per sector. */
export const BOOT_MAX_IMG_SECTORS = 128;
