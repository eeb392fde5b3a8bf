/**
 * `hil tkey info|load`: the TKey client by hand, to reproduce a bug on one TKey. The link
 * is a board of a rig file (`--rig FILE --board ID`: a lab TKey's CDC port by identity, or
 * an emulated TKey in this process) or any port (`--port PATH`, e.g. the pty of
 * `hil emulate tkey`). On failure the error carries the transcript tail.
 */

import { readFile, writeFile } from "node:fs/promises";
import { TKeyClient, TKeyError } from "../clients/tkey/index.js";
import { PRODUCT_NAMES, ussFromSecret } from "../protocol/tkey/index.js";
import { openTKeyLink, TKEY_BAUD } from "../rig/tkey-link.js";
import type { ByteStream } from "../transport/byte-stream.js";
import { type Clock, WallClock } from "../transport/clock.js";
import { openSerialPort } from "../transport/serial-port-stream.js";
import { printClientFailure } from "./client-failure.js";
import { boardOfRig } from "./rig-board.js";
import { UsageError } from "./usage-error.js";

export const TKEY_OPTIONS = {
  rig: { type: "string" },
  board: { type: "string" },
  port: { type: "string" },
  uss: { type: "string" },
  transcript: { type: "string" },
} as const;

export interface TKeyOptions {
  rig?: string | undefined;
  board?: string | undefined;
  port?: string | undefined;
  /** File whose contents are the secret phrase; the USS is its BLAKE2s, as tkey-runapp does. */
  uss?: string | undefined;
  transcript?: string | undefined;
}

export async function runTKey(opts: TKeyOptions, positionals: string[]): Promise<number> {
  const [action, ...args] = positionals;
  if (action !== "info" && action !== "load") throw new UsageError("tkey: expected info|load");
  if (action === "load" && args.length !== 1) throw new UsageError("tkey load: expected one APP.bin");
  if (action === "info" && args.length !== 0) throw new UsageError("tkey info: takes no file");
  // Inputs are read before the port is opened: a typo costs no TKey session.
  const app = action === "load" ? await readInput(args[0]!, "app") : undefined;
  const uss = opts.uss ? ussFromSecret(await readInput(opts.uss, "--uss")) : undefined;

  const { link, clock } = await openLink(opts);
  const client = await TKeyClient.open(link, { clock });
  try {
    const probe = await client.probe();
    if (probe.mode === "app") {
      console.log("an app is running (firmware probe answered NOK): replug the TKey to load another");
      return action === "info" ? 0 : 1;
    }
    const { name0, name1, version } = probe.nameVersion;
    const udi = await client.getUdi();
    console.log(`firmware "${name0}${name1}" version ${version}`);
    console.log(
      `UDI vendor 0x${udi.vendorId.toString(16).padStart(4, "0")}, product ${udi.productId} (${PRODUCT_NAMES[udi.productId] ?? "unknown"}), revision ${udi.revision}, serial ${udi.serial}`,
    );
    if (app) {
      client.events.on("chunk", (e) => {
        if (e.index % 128 === 127 || e.index === e.chunks - 1)
          console.error(`sent ${e.index + 1}/${e.chunks} chunks`);
      });
      const result = await client.loadApp(app, uss ? { uss } : {});
      console.log(
        `loaded ${app.length} bytes in ${result.chunks} chunks; digest ${Buffer.from(result.digest).toString("hex")}`,
      );
    }
    return 0;
  } catch (e) {
    if (!(e instanceof TKeyError) || !printClientFailure("hil tkey", e)) throw e;
    return 1;
  } finally {
    if (opts.transcript)
      await writeFile(opts.transcript, `${JSON.stringify(client.transcript.toJSON(), null, 1)}\n`);
    await link.close();
  }
}

async function readInput(path: string, what: string): Promise<Uint8Array> {
  try {
    return new Uint8Array(await readFile(path));
  } catch (e) {
    throw new UsageError(`tkey: cannot read ${what} file ${path}: ${(e as Error).message}`);
  }
}

async function openLink(opts: TKeyOptions): Promise<{ link: ByteStream; clock: Clock }> {
  if (opts.port) {
    const clock = new WallClock();
    return { link: await openSerialPort(opts.port, { baudRate: TKEY_BAUD, parity: "none", clock }), clock };
  }
  const board = await boardOfRig("tkey", opts.rig, opts.board);
  if (board.family !== "tkey")
    throw new UsageError(`tkey: board '${board.id}' is a ${board.family}, not a tkey`);
  return { link: await openTKeyLink(board), clock: board.clock };
}
