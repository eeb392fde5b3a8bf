import { readFile } from "node:fs/promises";
import { hashHex, type ImageSlotState, SmpError, SmpTimeoutError } from "../clients/smp/index.js";
import { parseImage } from "../protocol/mcuboot/index.js";
import { SmpLink } from "../rig/smp-link.js";
import { printClientFailure } from "./client-failure.js";
import { boardOfRig } from "./rig-board.js";
import { UsageError } from "./usage-error.js";

export const SMP_OPTIONS = {
  rig: { type: "string" },
  board: { type: "string" },
  upgrade: { type: "boolean" },
  test: { type: "boolean" },
  reset: { type: "boolean" },
  timeout: { type: "string" },
} as const;

const SUBCOMMANDS = ["list", "upload", "test", "confirm", "reset", "echo"] as const;

/**
 * `hil smp list|upload FILE [--test]|test HASH|confirm [HASH]|reset|echo TEXT --rig FILE --board ID [--reset]`.
 * The link is the board's SmpLink: a lab board's port found by identity (serial.byId or
 * serial.usbSerial) through its locator and found again after a reset, since a USB CDC
 * port re-enumerates; an emulated board is built fresh for the one command, so its state
 * does not outlive the process. `--reset` ends upload/test/confirm with a reset, waits for
 * the application on the re-resolved port and lists the images it reports.
 */
export async function runSmp(
  opts: {
    rig?: string | undefined;
    board?: string | undefined;
    upgrade?: boolean | undefined;
    test?: boolean | undefined;
    reset?: boolean | undefined;
    timeout?: string | undefined;
  },
  positionals: string[],
): Promise<number> {
  const [sub, arg, ...extra] = positionals;
  if (!sub || !(SUBCOMMANDS as readonly string[]).includes(sub))
    throw new UsageError(`smp: give one of ${SUBCOMMANDS.join(", ")}`);
  if (extra.length > 0) throw new UsageError(`smp ${sub}: unexpected '${extra.join(" ")}'`);
  if (opts.test && sub !== "upload") throw new UsageError("smp: --test goes with upload");
  if (opts.reset && !["upload", "test", "confirm"].includes(sub))
    throw new UsageError("smp: --reset goes with upload, test or confirm");
  const timeoutMs = opts.timeout === undefined ? undefined : Number(opts.timeout);
  if (timeoutMs !== undefined && !(timeoutMs > 0))
    throw new UsageError(`smp: --timeout '${opts.timeout}' is not a positive number of ms`);
  // Arguments are checked before the port is opened: a typo costs no session.
  const hash = sub === "test" || (sub === "confirm" && arg !== undefined) ? hexHash(arg, sub) : undefined;
  if (sub === "upload" && !arg) throw new UsageError("smp upload: give the signed image FILE");
  const image = sub === "upload" ? await readImage(arg!, !!opts.test) : undefined;

  const board = await boardOfRig("smp", opts.rig, opts.board);
  if (board.family !== "nrf52840")
    throw new UsageError(`smp: board '${board.id}' is a ${board.family}, not an nrf52840`);
  const link = await SmpLink.connect(board, timeoutMs ? { client: { timeoutMs } } : {});
  try {
    const client = link.client;
    switch (sub) {
      case "list":
        printList(await client.list());
        break;
      case "upload": {
        let shown = -1;
        await client.upload(image!, {
          upgrade: !!opts.upgrade,
          onProgress: ({ off, len }) => {
            const pct = Math.floor((off * 100) / len);
            if (pct >= shown + 10 || off === len) {
              shown = pct;
              console.error(`upload ${off}/${len} (${pct}%)`);
            }
          },
        });
        if (opts.test) printList(await client.test(parseImage(image!).hash!));
        break;
      }
      case "test":
        printList(await client.test(hash!));
        break;
      case "confirm":
        printList(await client.confirm(hash));
        break;
      case "reset":
        await link.reset();
        console.error(`reset: the application answers again on ${link.path ?? link.stream.name}`);
        break;
      case "echo":
        console.log(await client.echo(arg ?? ""));
        break;
    }
    if (opts.reset) {
      await link.reset();
      console.error(`reset: the application answers again on ${link.path ?? link.stream.name}`);
      printList(await link.client.list());
    }
  } catch (e) {
    // Device answers (an rc) and silences are results of the command, not crashes.
    if ((e instanceof SmpError || e instanceof SmpTimeoutError) && printClientFailure(`hil: smp ${sub}`, e))
      return 1;
    throw e;
  } finally {
    await link.close();
    if (board.emulator) await board.power.off();
  }
  return 0;
}

async function readImage(path: string, needHash: boolean): Promise<Uint8Array> {
  let image: Uint8Array;
  try {
    image = new Uint8Array(await readFile(path));
  } catch (e) {
    throw new UsageError(`smp upload: cannot read ${path}: ${(e as Error).message}`);
  }
  if (needHash) {
    try {
      if (!parseImage(image).hash) throw new Error("it has no SHA256 TLV");
    } catch (e) {
      throw new UsageError(
        `smp upload --test: ${path} is not a signed MCUboot image: ${(e as Error).message}`,
      );
    }
  }
  return image;
}

function hexHash(text: string | undefined, sub: string): Uint8Array {
  if (!text || !/^([0-9a-f]{2}){32}$/i.test(text))
    throw new UsageError(`smp ${sub}: HASH must be 64 hex digits`);
  return new Uint8Array(Buffer.from(text, "hex"));
}

function printList(images: ImageSlotState[]): void {
  if (images.length === 0) console.log("no images");
  for (const i of images) {
    const flags = (["bootable", "pending", "confirmed", "active", "permanent"] as const)
      .filter((f) => i[f])
      .join(" ");
    console.log(
      `image=${i.image ?? 0} slot=${i.slot} version=${i.version} hash=${hashHex(i.hash)} flags: ${flags}`,
    );
  }
}
