/**
 * The floor under the USART bench: the same 256 KB write + read-back as our client, made the
 * way stm32flash makes it — blocking reads, the thread asleep in read() until the reply —
 * in node, with the project's frame codecs and nothing else (no transcript, events, steps or
 * timeouts beyond the tty's own). It answers one question each run: how much of the ratio is
 * node, and how much is waiting on the event loop. Not a client: it stops at the first
 * byte that is not an ACK, and it blocks its thread for every reply, which the harness must
 * not do (power-cut timers, watchdogs and other boards share the loop).
 */
import { spawnSync } from "node:child_process";
import { closeSync, constants, openSync, readSync, writeSync } from "node:fs";
import {
  Command,
  commandFrame,
  countFrame,
  ExtendedEraseSpecial,
  encodeExtendedErase,
  encodeWriteData,
  u32Frame,
} from "../harness/protocol/stm32-usart/index.js";

const ACK = 0x79;
const BLOCK = 256;

/** Wall time of sync, mass erase, write and read-back of `image` at `base`, in ms. */
export function blockingFloorMs(link: string, image: Uint8Array, base: number): number {
  const fd = openSync(link, constants.O_RDWR | constants.O_NOCTTY);
  try {
    // VMIN 0, VTIME 10: read() returns what has come, or nothing after 1 s (stm32flash's way).
    const stty = spawnSync("stty", ["-F", link, "raw", "-echo", "min", "0", "time", "10"]);
    if (stty.status !== 0) throw new Error(`stty ${link}: ${stty.stderr}`);
    const rx = new Uint8Array(BLOCK);
    const read = (n: number): Uint8Array => {
      for (let got = 0; got < n; ) {
        const k = readSync(fd, rx, got, n - got, null);
        if (k === 0) throw new Error(`floor client: no reply within 1 s (${got}/${n} bytes)`);
        got += k;
      }
      return rx.subarray(0, n);
    };
    const send = (frame: Uint8Array) => {
      for (let done = 0; done < frame.length; ) done += writeSync(fd, frame, done);
    };
    const acked = (frame: Uint8Array) => {
      send(frame);
      const b = read(1)[0];
      if (b !== ACK) throw new Error(`floor client: 0x${b?.toString(16)} instead of ACK`);
    };
    const t0 = performance.now();
    acked(Uint8Array.of(0x7f));
    acked(commandFrame(Command.ExtendedErase));
    acked(encodeExtendedErase({ kind: "special", code: ExtendedEraseSpecial.Mass }));
    for (let off = 0; off < image.length; off += BLOCK) {
      acked(commandFrame(Command.WriteMemory));
      acked(u32Frame(base + off));
      acked(encodeWriteData(image.subarray(off, off + BLOCK)));
    }
    for (let off = 0; off < image.length; off += BLOCK) {
      const n = Math.min(BLOCK, image.length - off);
      acked(commandFrame(Command.ReadMemory));
      acked(u32Frame(base + off));
      acked(countFrame(n));
      const back = read(n);
      for (let i = 0; i < n; i++)
        if (back[i] !== image[off + i])
          throw new Error(`floor client: read back 0x${(base + off + i).toString(16)} differs`);
    }
    return performance.now() - t0;
  } finally {
    closeSync(fd);
  }
}
