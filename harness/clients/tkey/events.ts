/** What a TKeyClient reports while it works; suites and fault plans hook in (e.g. cut power after chunk k). */
export type TKeyClientEvent =
  | { type: "probe"; mode: "firmware" | "app" }
  | { type: "load-started"; size: number; chunks: number; uss: boolean }
  /** Chunk `index` (1-based) of `chunks` was acknowledged by the firmware. */
  | { type: "chunk"; index: number; chunks: number; sent: number; size: number }
  | { type: "loaded"; digest: Uint8Array };

export type TKeyClientListener = (event: TKeyClientEvent) => void;
