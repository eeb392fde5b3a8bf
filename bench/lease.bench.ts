import { acquireBoard, type LeaseBackendConfig } from "../harness/lab/board-lease.js";
import { EtcdServer, etcdAvailable } from "../test/lab/etcd-server.js";
import type { BenchResult } from "./harness.js";

const ROUNDS = 200;

/**
 * Board leases in etcd: acquire (grant + put-if-absent transaction) and release (revoke) of
 * one board against an etcd on loopback, median of 200 rounds after 10 warm-up ones. What a
 * rack host pays per board per suite file, over the lock files' near-zero.
 */
export async function leaseBench(): Promise<BenchResult> {
  const name = "etcd-lease";
  if (!etcdAvailable()) {
    console.warn("etcd-lease: skipped: the etcd binary is not installed (Debian package etcd-server)");
    return { name, figures: {}, units: {}, ratios: {} };
  }
  const etcd = await EtcdServer.start();
  try {
    const config: LeaseBackendConfig = {
      backend: "etcd",
      endpoints: [etcd.endpoint],
      prefix: "/bench/",
      ttlS: 15,
    };
    const acquire: number[] = [];
    const release: number[] = [];
    for (let i = 0; i < ROUNDS + 10; i++) {
      const t0 = performance.now();
      const lease = await acquireBoard(config, "bench-board");
      const t1 = performance.now();
      await lease.release();
      const t2 = performance.now();
      if (i < 10) continue;
      acquire.push(t1 - t0);
      release.push(t2 - t1);
    }
    return {
      name,
      figures: { acquireMedianMs: median(acquire), releaseMedianMs: median(release) },
      units: { acquireMedianMs: "ms", releaseMedianMs: "ms" },
      ratios: {},
    };
  } finally {
    await etcd.dispose();
  }
}

function median(samples: number[]): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}
