import { readFile } from "node:fs/promises";
import { hashHex, type ImageSlotState, SmpClient, SmpError, SmpTimeoutError } from "../clients/smp/index.js";
import { Nrf52840McubootDevice } from "../devices/nrf52840-mcuboot/device.js";
import { loadRigFile, resolveRigPath } from "../rig/load.js";
import { buildRig } from "../rig/rig.js";
import type { LabBoardSpec } from "../rig/schema.js";
import type { ByteStream } from "../transport/byte-stream.js";
import { type Clock, WallClock } from "../transport/clock.js";
import { openSerialPort } from "../transport/serial-port-stream.js";
import { UsageError } from "./usage-error.js";

export const SMP_OPTIONS = {
  rig: { type: "string" },
  board: { type: "string" },
  upgrade: { type: "boolean" },
  timeout: { type: "string" },
} as const;

const SUBCOMMANDS = ["list", "upload", "test", "confirm", "reset", "echo"] as const;

/**
 * `hil smp list|upload FILE|test HASH|confirm [HASH]|reset|echo TEXT --rig FILE --board ID`.
 * A lab board's port is found by identity (serial.byId or serial.usbSerial). An emulated
 * board is built fresh for the one command, so its state does not outlive the process.
 */
export async function runSmp(
  opts: {
    rig?: string | undefined;
    board?: string | undefined;
    upgrade?: boolean | undefined;
    timeout?: string | undefined;
  },
  positionals: string[],
): Promise<number> {
  const [sub, arg, ...extra] = positionals;
  if (!sub || !(SUBCOMMANDS as readonly string[]).includes(sub))
    throw new UsageError(`smp: give one of ${SUBCOMMANDS.join(", ")}`);
  if (extra.length > 0) throw new UsageError(`smp ${sub}: unexpected '${extra.join(" ")}'`);
  if (!opts.board) throw new UsageError("smp: --board ID is required");
  const timeoutMs = opts.timeout === undefined ? undefined : Number(opts.timeout);
  if (timeoutMs !== undefined && !(timeoutMs > 0))
    throw new UsageError(`smp: --timeout '${opts.timeout}' is not a positive number of ms`);
  const link = await openLink(resolveRigPath(opts.rig), opts.board);
  const client = new SmpClient(link.stream, link.clock, timeoutMs ? { timeoutMs } : {});
  try {
    switch (sub) {
      case "list":
        printList(await client.list());
        break;
      case "upload": {
        if (!arg) throw new UsageError("smp upload: give the signed image FILE");
        const image = new Uint8Array(await readFile(arg));
        let shown = -1;
        await client.upload(image, {
          upgrade: !!opts.upgrade,
          onProgress: ({ off, len }) => {
            const pct = Math.floor((off * 100) / len);
            if (pct >= shown + 10 || off === len) {
              shown = pct;
              console.error(`upload ${off}/${len} (${pct}%)`);
            }
          },
        });
        break;
      }
      case "test":
        printList(await client.test(hexHash(arg, "test")));
        break;
      case "confirm":
        printList(await client.confirm(arg === undefined ? undefined : hexHash(arg, "confirm")));
        break;
      case "reset":
        await client.reset();
        break;
      case "echo":
        console.log(await client.echo(arg ?? ""));
        break;
    }
  } catch (e) {
    // Device answers (an rc) and silences are results of the command, not crashes.
    if (e instanceof SmpError || e instanceof SmpTimeoutError) {
      console.error(`hil: smp ${sub}: ${e.message}`);
      return 1;
    }
    throw e;
  } finally {
    await link.close();
  }
  return 0;
}

interface Link {
  stream: ByteStream;
  clock: Clock;
  close(): Promise<void>;
}

async function openLink(rigPath: string, boardId: string): Promise<Link> {
  const file = await loadRigFile(rigPath);
  const spec = file.boards.find((b) => b.id === boardId);
  if (!spec)
    throw new UsageError(
      `smp: no board '${boardId}' in ${rigPath} (boards: ${file.boards.map((b) => b.id).join(", ")})`,
    );
  if (spec.family !== "nrf52840")
    throw new UsageError(`smp: board '${boardId}' is a ${spec.family}, not an nrf52840`);
  if (spec.kind === "emulated") {
    const board = buildRig(file, rigPath).boards.find((b) => b.id === boardId)!;
    const dev = board.emulator;
    if (!(dev instanceof Nrf52840McubootDevice))
      throw new UsageError(`smp: board '${boardId}' has no SMP emulator`);
    await dev.power.on();
    return { stream: dev.host, clock: board.clock, close: () => dev.power.off() };
  }
  const clock = new WallClock();
  const stream = await openSerialPort(await portPath(spec), {
    baudRate: spec.serial?.baudRate ?? 115200,
    clock,
  });
  return { stream, clock, close: () => stream.close() };
}

/** The board's tty by identity: a by-id link as given, or the port whose USB serial number matches. */
async function portPath(spec: LabBoardSpec): Promise<string> {
  const s = spec.serial;
  if (s?.byId) return s.byId;
  if (s?.usbSerial) {
    const { SerialPort } = await import("serialport");
    const port = (await SerialPort.list()).find((p) => p.serialNumber === s.usbSerial);
    if (!port)
      throw new UsageError(`smp: no serial port with USB serial number ${s.usbSerial} (board ${spec.id})`);
    return port.path;
  }
  throw new UsageError(
    `smp: board ${spec.id} has no serial port in the rig file (serial: byId or usbSerial)`,
  );
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
