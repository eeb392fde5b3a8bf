/** What a flash operation does. */
export type FlashOpKind = "erase" | "program";

/** One erase unit of a flash. */
export interface SectorView {
  readonly index: number;
  readonly start: number;
  readonly size: number;
}

/**
 * Read-only view of an emulated flash, what reports and white-box checks need: harness/sim's
 * Flash satisfies it as it is, so nothing above the emulator core has to import the core.
 */
export interface FlashView {
  readonly name: string;
  readonly base: number;
  readonly size: number;
  /** Value of an erased byte. */
  readonly erasedValue: number;
  readonly sectors: readonly SectorView[];
  /** The bytes as they are, without counting a read or honouring read protection. */
  peek(address: number, length: number): Uint8Array;
  isErased(address: number, length: number): boolean;
  /** Operations so far; a test compares it with a mark to see whether it wrote the flash. */
  readonly counters: { readonly ops: number };
  /** The contents now, per sector (a copy the flash will not change). */
  snapshot(): FlashSnapshotView;
}

export interface FlashSnapshotView {
  readonly sectors: readonly Uint8Array[];
}
