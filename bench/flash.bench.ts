import { Flash } from "../harness/sim/flash.js";
import { type BenchResult, timeMs } from "./harness.js";

/** A 1 MB STM32WB55-like flash: 256 sectors of 4 KB, 8-byte program unit. */
function wbFlash(): Flash {
  return new Flash({ base: 0x0800_0000, sectors: [{ size: 4096, count: 256 }], programUnit: 8 });
}

const MB = 1024 * 1024;

/**
 * Flash model throughput and snapshot cost. Baselines in the same run: a plain
 * Uint8Array copy of the same bytes (the cost floor of any byte store), and a full copy of
 * the flash for the snapshot (what copy-on-write saves).
 */
export function flashBench(): BenchResult {
  const image = Uint8Array.from({ length: MB }, (_, i) => (i * 31) & 0xff);
  const rows = 2048;

  const programMs = timeMs(() => {
    const f = wbFlash();
    for (let off = 0; off < MB; off += rows) f.program(f.base + off, image.subarray(off, off + rows));
  });
  const copyMs = timeMs(() => {
    const dst = new Uint8Array(MB);
    for (let off = 0; off < MB; off += rows) dst.set(image.subarray(off, off + rows), off);
  });

  const full = wbFlash();
  full.load(full.base, image);
  const snapshotMs =
    timeMs(() => {
      for (let i = 0; i < 100; i++) full.snapshot();
    }) / 100;
  const fullCopyMs =
    timeMs(() => {
      for (let i = 0; i < 100; i++) full.peek(full.base, MB);
    }) / 100;
  // Restore + rewrite one sector: the step a power-cut sweep repeats per cut point.
  const snap = full.snapshot();
  const restoreAndTouchMs =
    timeMs(() => {
      for (let i = 0; i < 100; i++) {
        full.restore(snap);
        full.erase(i);
      }
    }) / 100;

  return {
    name: "flash",
    figures: {
      programThroughput: 1 / (programMs / 1000),
      snapshotUs: snapshotMs * 1000,
      restoreAndEraseOneSectorUs: restoreAndTouchMs * 1000,
    },
    units: {
      programThroughput: "MB/s",
      snapshotUs: "µs (1 MB, 256 sectors)",
      restoreAndEraseOneSectorUs: "µs",
    },
    ratios: {
      programVsRawCopy: copyMs / programMs,
      snapshotVsFullCopy: snapshotMs / fullCopyMs,
    },
  };
}
