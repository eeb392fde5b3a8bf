import { TKeyClient } from "../harness/clients/tkey/index.js";
import { TKeyDevice } from "../harness/devices/tkey/index.js";
import { APP_MAX_SIZE, chunkCount } from "../harness/protocol/tkey/index.js";
import { VirtualClock } from "../harness/sim/virtual-clock.js";
import type { BenchResult } from "./harness.js";

interface Run {
  wallMs: number;
  deviceMs: number;
  txBytes: number;
  rxBytes: number;
}

/** One 128 KiB load on a fresh emulated TKey: wall time, device time, bytes each way. */
async function loadOnce(app: Uint8Array): Promise<Run> {
  const clock = new VirtualClock();
  const dev = new TKeyDevice({ clock, seed: 1 });
  await dev.power.on();
  const client = new TKeyClient(dev.port("tkey"), { clock });
  const t0 = performance.now();
  const d0 = clock.now();
  await client.loadApp(app);
  const wallMs = performance.now() - t0;
  const bytes = (dir: string) =>
    client.transcript.entries.filter((e) => e.dir === dir).reduce((n, e) => n + (e.bytes?.length ?? 0), 0);
  return { wallMs, deviceMs: clock.now() - d0, txBytes: bytes("tx"), rxBytes: bytes("rx") };
}

/**
 * Loading a 128 KiB app on the emulated TKey. Device time is what the load takes at 62500
 * baud on real hardware; the ratio to wall time is the emulator's speed-up. Wire bytes per
 * app byte against the protocol's floor: 129-byte frames carrying 127 app bytes, plus the
 * LOAD_APP frame (the client sends nothing else without a USS).
 */
export async function tkeyBench(runs = 5): Promise<BenchResult> {
  const app = Uint8Array.from({ length: APP_MAX_SIZE }, (_, i) => (i * 29 + 7) & 0xff);
  await loadOnce(app);
  const samples: Run[] = [];
  for (let i = 0; i < runs; i++) samples.push(await loadOnce(app));
  samples.sort((a, b) => a.wallMs - b.wallMs);
  const median = samples[Math.floor(samples.length / 2)]!;
  const floor = 129 * (chunkCount(app.length) + 1);
  return {
    name: "tkey 128 KiB app load",
    figures: {
      wallMs: median.wallMs,
      deviceMs: median.deviceMs,
      hostToDeviceBytes: median.txBytes,
      deviceToHostBytes: median.rxBytes,
    },
    units: {
      wallMs: "ms",
      deviceMs: "ms (62500 baud)",
      hostToDeviceBytes: "bytes",
      deviceToHostBytes: "bytes",
    },
    ratios: {
      deviceTimePerWallTime: median.deviceMs / median.wallMs,
      wireBytesPerAppByte: median.txBytes / app.length,
      wireBytesOverFloor: median.txBytes / floor,
    },
  };
}
