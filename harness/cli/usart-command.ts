/**
 * `hil usart info|read|write|erase|go`: the USART bootloader client by hand, to reproduce a
 * bug on one board. The link is a board of a rig file (`--rig FILE --board ID`: the lab
 * board's serial identity, or an emulated board in this process) or any port (`--port
 * PATH`, e.g. the pty of `hil emulate`). On failure the session transcript is printed.
 */

import { writeFile } from "node:fs/promises";
import { UsartClient, UsartError } from "../clients/stm32-usart/index.js";
import { commandName } from "../protocol/stm32-usart/index.js";
import { openUsartLink } from "../rig/usart-link.js";
import type { ByteStream } from "../transport/byte-stream.js";
import { type Clock, WallClock } from "../transport/clock.js";
import { hexDump } from "../transport/hex.js";
import { openPort } from "../transport/open-port.js";
import { printClientFailure } from "./client-failure.js";
import { readImageFile } from "./image-file.js";
import { boardOfRig } from "./rig-board.js";
import { UsageError } from "./usage-error.js";

export const USART_OPTIONS = {
  rig: { type: "string" },
  board: { type: "string" },
  port: { type: "string" },
  baud: { type: "string" },
  parity: { type: "string" },
  output: { type: "string", short: "o" },
  pages: { type: "string" },
  mass: { type: "boolean" },
  verify: { type: "boolean" },
  erase: { type: "boolean" },
  transcript: { type: "string" },
} as const;

export interface UsartOptions {
  rig?: string | undefined;
  board?: string | undefined;
  port?: string | undefined;
  baud?: string | undefined;
  parity?: string | undefined;
  output?: string | undefined;
  pages?: string | undefined;
  mass?: boolean | undefined;
  verify?: boolean | undefined;
  erase?: boolean | undefined;
  transcript?: string | undefined;
}

const FLASH = 0x0800_0000;

export async function runUsart(opts: UsartOptions, positionals: string[]): Promise<number> {
  const [action, ...args] = positionals;
  if (!action || !["info", "read", "write", "erase", "go"].includes(action))
    throw new UsageError("usart: expected info|read|write|erase|go");
  // Arguments are checked before the link is opened: a typo costs no bootloader session.
  if (action === "read") {
    num(args[0], "ADDRESS");
    num(args[1], "LENGTH");
  }
  if (action === "write" && !args[0])
    throw new UsageError(
      "usart write: expected FILE [ADDRESS] (.bin at ADDRESS, default 0x08000000; .hex or .dfu)",
    );
  const address = action === "go" ? args[0] : action === "write" ? args[1] : undefined;
  if (address !== undefined) num(address, "ADDRESS");
  // The image is read and checked before the link opens: a bad file flashes nothing.
  const image =
    action === "write"
      ? await readImageFile("usart write", args[0]!, writeAddress(args[0]!, args[1]))
      : undefined;
  if (action === "erase") {
    if (!opts.mass && !opts.pages) throw new UsageError("usart erase: expected --pages A-B[,C...] or --mass");
    if (opts.pages) pageList(opts.pages);
  }
  const { link, clock } = await openLink(opts);
  // Not UsartClient.open: recover() below syncs whatever state a previous session left.
  const client = new UsartClient(link, { clock });
  try {
    await client.recover();
    const info = await client.probe();
    const pageSize = info.pid === 0x495 ? 4096 : 2048; // WB55 4 KB pages, L43x 2 KB (AN2606)
    switch (action) {
      case "info":
        console.log(
          `PID 0x${info.pid.toString(16).padStart(3, "0")}, protocol V${info.version >> 4}.${info.version & 0xf}`,
        );
        console.log(`commands: ${info.commands.map(commandName).join(", ")}`);
        break;
      case "read": {
        const address = num(args[0], "ADDRESS");
        const length = num(args[1], "LENGTH");
        const data = await client.read(address, length);
        if (opts.output) await writeFile(opts.output, data);
        else for (const line of hexDump(data, { elide: false, indent: "" })) console.log(line);
        break;
      }
      case "write": {
        if (!image) throw new UsageError("usart write: expected FILE [ADDRESS]");
        client.events.on("block-written", (e) => {
          if (e.index % 64 === 63 || e.index === e.count - 1)
            console.error(`wrote ${e.index + 1}/${e.count} blocks`);
        });
        // Every page any segment touches, erased once before anything is written.
        if (opts.erase) await client.erasePages(pagesOf(image.segments, pageSize));
        for (const { address, data } of image.segments) await client.write(address, data);
        if (opts.verify) {
          for (const { address, data } of image.segments) {
            const back = await client.read(address, data.length);
            const at = back.findIndex((b, i) => b !== data[i]);
            if (at >= 0) {
              console.error(
                `hil usart: verify failed at 0x${(address + at).toString(16)}: wrote 0x${hex2(data[at]!)}, read 0x${hex2(back[at]!)}`,
              );
              return 1;
            }
          }
          console.error("verified");
        }
        break;
      }
      case "erase":
        if (opts.mass) await client.massErase();
        else if (opts.pages) await client.erasePages(pageList(opts.pages));
        else throw new UsageError("usart erase: expected --pages A-B[,C...] or --mass");
        break;
      case "go":
        await client.go(args[0] === undefined ? FLASH : num(args[0], "ADDRESS"));
        break;
    }
    return 0;
  } catch (e) {
    if (!(e instanceof UsartError) || !printClientFailure("hil usart", e)) throw e;
    return 1;
  } finally {
    if (opts.transcript)
      await writeFile(opts.transcript, `${JSON.stringify(client.transcript.toJSON(), null, 1)}\n`);
    await link.close();
  }
}

function pagesOf(segments: { address: number; data: Uint8Array }[], pageSize: number): number[] {
  const pages = new Set<number>();
  for (const { address, data } of segments) {
    const first = Math.floor((address - FLASH) / pageSize);
    const last = Math.floor((address + data.length - 1 - FLASH) / pageSize);
    for (let p = first; p <= last; p++) pages.add(p);
  }
  return [...pages].sort((a, b) => a - b);
}

const hex2 = (b: number) => b.toString(16).padStart(2, "0");

/** A .bin goes to ADDRESS (default the flash base); .hex and .dfu carry their own (an ADDRESS is refused). */
function writeAddress(file: string, given: string | undefined): number | undefined {
  if (given !== undefined) return num(given, "ADDRESS");
  return /\.bin$/i.test(file) ? FLASH : undefined;
}

async function openLink(opts: UsartOptions): Promise<{ link: ByteStream; clock: Clock }> {
  if (opts.port) {
    const parity = opts.parity ?? "even";
    if (parity !== "even" && parity !== "none")
      throw new UsageError(`--parity expects even or none, got '${parity}'`);
    const clock = new WallClock();
    const { stream, notes } = await openPort(opts.port, {
      baudRate: opts.baud ? num(opts.baud, "--baud") : 115200,
      parity,
      clock,
    });
    for (const note of notes) console.error(`hil usart: ${note}`);
    return { link: stream, clock };
  }
  if (!opts.board) throw new UsageError("usart: expected --port PATH or --board ID (with --rig FILE)");
  const board = await boardOfRig("usart", opts.rig, opts.board);
  return { link: await openUsartLink(board), clock: board.clock };
}

function num(text: string | undefined, what: string): number {
  if (text === undefined || !/^(0x[0-9a-f]+|\d+)$/i.test(text))
    throw new UsageError(`usart: ${what} expected a number (decimal or 0x hex), got '${text ?? ""}'`);
  return Number(text);
}

function pageList(text: string): number[] {
  const pages: number[] = [];
  for (const part of text.split(",")) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part);
    if (!m) throw new UsageError(`--pages: '${part}' is not N or A-B`);
    for (let p = Number(m[1]); p <= Number(m[2] ?? m[1]); p++) pages.push(p);
  }
  return pages;
}
