import { TKeyDevice } from "../../../harness/devices/tkey/index.js";
import { VirtualClock } from "../../../harness/sim/virtual-clock.js";
import type { ByteStream } from "../../../harness/transport/byte-stream.js";

export async function poweredTKey(
  opts: { profile?: string; seed?: number; options?: Record<string, unknown> } = {},
) {
  const clock = new VirtualClock();
  const dev = new TKeyDevice({ clock, seed: opts.seed ?? 7, profile: opts.profile, options: opts.options });
  await dev.power.on();
  return { clock, dev, port: dev.port("tkey") };
}

/** Writes a frame and reads `n` reply bytes, or resolves undefined when none arrive within 500 ms. */
export async function exchange(
  port: ByteStream,
  frame: Uint8Array,
  n: number,
): Promise<Uint8Array | undefined> {
  await port.write(frame);
  try {
    return await port.read(n, { timeoutMs: 500 });
  } catch (e) {
    if ((e as Error).name === "ReadTimeoutError" && (e as { partial: Uint8Array }).partial.length === 0)
      return undefined;
    throw e;
  }
}
