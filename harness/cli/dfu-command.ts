/**
 * `hil dfu list|download|upload|erase|leave`: the DfuSe client by hand, dfu-util style, to
 * reproduce a bug on one board of a rig file (`--rig FILE --board ID`): a lab board over the
 * host's USB, or an emulated board in this process. A DFU failure prints the error with the
 * tail of the USB transcript and exits 1; bad arguments or files exit 2 before any transfer.
 */

import { writeFile } from "node:fs/promises";
import { DfuClient, DfuError } from "../clients/dfu/index.js";
import { emulatedUsbBus } from "../devices/stm32/dfu/index.js";
import { type FirmwareImage, hex32, imageSize, sectors } from "../protocol/dfu/index.js";
import type { Board } from "../rig/board.js";
import { labUsbBus } from "../rig/usb-link.js";
import type { UsbBus, UsbFilter } from "../transport/usb.js";
import { printClientFailure } from "./client-failure.js";
import { readImageFile } from "./image-file.js";
import { boardOfRig } from "./rig-board.js";
import { UsageError } from "./usage-error.js";

export const DFU_OPTIONS = {
  rig: { type: "string" },
  board: { type: "string" },
  alt: { type: "string" },
  address: { type: "string" },
  length: { type: "string" },
  mass: { type: "boolean" },
  verify: { type: "boolean" },
  leave: { type: "boolean" },
} as const;

export interface DfuOptions {
  rig?: string | undefined;
  board?: string | undefined;
  alt?: string | undefined;
  address?: string | undefined;
  length?: string | undefined;
  mass?: boolean | undefined;
  verify?: boolean | undefined;
  leave?: boolean | undefined;
}

const ROM: UsbFilter = { vendorId: 0x0483, productId: 0xdf11 };
const ACTIONS = ["list", "download", "upload", "erase", "leave"];

export async function runDfu(opts: DfuOptions, positionals: string[]): Promise<number> {
  const [action, file, ...extra] = positionals;
  if (!action || !ACTIONS.includes(action)) throw new UsageError(`dfu: expected ${ACTIONS.join("|")}`);
  if (extra.length > 0) throw new UsageError(`dfu ${action}: unexpected argument '${extra[0]}'`);
  // Everything is checked before the board is touched: a typo costs no DFU session.
  const address = opts.address === undefined ? undefined : num(opts.address, "--address");
  const alt = opts.alt === undefined ? 0 : /^\d+$/.test(opts.alt) ? Number(opts.alt) : opts.alt;
  let image: FirmwareImage | undefined;
  if (action === "download") {
    if (!file) throw new UsageError("dfu download: expected FILE (.bin with --address, .hex or .dfu)");
    image = await readImageFile("dfu", file, address);
  }
  if (action === "upload" && (!file || address === undefined || opts.length === undefined))
    throw new UsageError("dfu upload: expected FILE --address A --length N");
  const length = opts.length === undefined ? undefined : num(opts.length, "--length");
  if (action === "erase" && !opts.mass && address === undefined)
    throw new UsageError("dfu erase: expected --address A [--length N] or --mass");

  const { bus, board } = await openBus(opts);
  if (action === "list") return list(bus);
  const filter = board.serial ? { ...ROM, serialNumber: board.serial } : ROM;
  let client: DfuClient | undefined;
  try {
    client = await DfuClient.open(bus, filter, { clock: board.clock, alt: image?.alt ?? alt });
    switch (action) {
      case "download": {
        const img = image!;
        const progress = progressBar(`download ${img.source}`);
        client.events.on("progress", progress);
        await client.download(img);
        if (opts.verify) await client.verify(img);
        progress.end();
        console.log(
          `downloaded ${imageSize(img)} bytes to ${hex32(img.segments[0]!.address)}${opts.verify ? ", verified" : ""}`,
        );
        if (opts.leave) await client.leave(img.segments[0]!.address);
        break;
      }
      case "upload": {
        const progress = progressBar(`upload ${hex32(address!)}`);
        client.events.on("progress", progress);
        const data = await client.upload(address!, length!);
        progress.end();
        await writeFile(file!, data);
        console.log(`uploaded ${data.length} bytes from ${hex32(address!)} to ${file}`);
        break;
      }
      case "erase":
        if (opts.mass) await client.massErase();
        else {
          const sectors = pagesOf(client, address!, length ?? 1);
          for (const s of sectors) await client.erasePage(s);
          console.log(`erased ${sectors.length} page(s) from ${hex32(sectors[0]!)}`);
        }
        break;
      case "leave":
        await client.leave(address);
        console.log(`left DFU${address === undefined ? "" : ` to ${hex32(address)}`}`);
        break;
    }
    return 0;
  } catch (e) {
    if (!(e instanceof DfuError) || !printClientFailure("hil dfu", e)) throw e;
    return 1;
  } finally {
    // Releases the interface and ends the transfer watchdog, so the process can exit.
    await client?.close();
  }
}

async function openBus(opts: DfuOptions): Promise<{ bus: UsbBus; board: Board }> {
  const board = await boardOfRig("dfu", opts.rig, opts.board);
  if (!board.capabilities.has("usb-dfu"))
    throw new UsageError(`dfu: board '${board.id}' has no usb-dfu capability`);
  if (board.emulator) return { bus: emulatedUsbBus(board.emulator), board };
  return { bus: labUsbBus(board), board };
}

async function list(bus: UsbBus): Promise<number> {
  const devices = await bus.list(ROM);
  // Emulated boards enumerate after their USB connect time: give them one wait.
  const found = devices.length > 0 ? devices : await bus.waitFor(ROM, { timeoutMs: 5000 }).then((d) => [d]);
  for (const d of found) {
    const hex4 = (n: number) => n.toString(16).padStart(4, "0");
    console.log(
      `${hex4(d.vendorId)}:${hex4(d.productId)} serial=${d.serialNumber ?? "?"} "${d.productName ?? ""}"`,
    );
    const alternates =
      d.configuration?.interfaces[0]?.alternates ?? d.configurations[0]?.interfaces[0]?.alternates ?? [];
    for (const a of alternates) console.log(`  alt=${a.alternateSetting} name="${a.interfaceName ?? ""}"`);
  }
  return 0;
}

function pagesOf(client: DfuClient, address: number, length: number): number[] {
  const pages = [...sectors(client.memoryMap)]
    .filter((s) => s.start + s.size > address && s.start < address + length)
    .map((s) => s.start);
  if (pages.length === 0)
    throw new UsageError(`dfu erase: ${hex32(address)} is not in "${client.memoryMap.name}"`);
  return pages;
}

/** A one-line bar on a terminal, a line per quarter otherwise (CI logs). */
function progressBar(label: string) {
  const tty = process.stderr.isTTY;
  let lastQuarter = -1;
  let lastPhase = "";
  const update = (e: { done: number; total: number; phase: string }) => {
    if (e.phase !== lastPhase) [lastPhase, lastQuarter] = [e.phase, -1];
    const frac = e.total === 0 ? 1 : e.done / e.total;
    if (tty) {
      const width = 30;
      const full = Math.round(frac * width);
      process.stderr.write(
        `\r${label} ${e.phase.padEnd(8)} [${"#".repeat(full)}${"-".repeat(width - full)}] ${(frac * 100).toFixed(0).padStart(3)}%`,
      );
    } else if (Math.floor(frac * 4) > lastQuarter) {
      lastQuarter = Math.floor(frac * 4);
      process.stderr.write(`${label} ${e.phase} ${(frac * 100).toFixed(0)}%\n`);
    }
  };
  return Object.assign(update, {
    end: () => {
      if (tty) process.stderr.write("\n");
    },
  });
}

function num(text: string, what: string): number {
  if (!/^(0x[0-9a-f]+|\d+)$/i.test(text))
    throw new UsageError(`dfu: ${what} expected a number (decimal or 0x hex), got '${text}'`);
  return Number(text);
}
