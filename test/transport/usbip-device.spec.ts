import { createServer, type Server, type Socket } from "node:net";
import { expect } from "chai";
import fc from "fast-check";
import { DfuClient, DfuError } from "../../harness/clients/dfu/index.js";
import { serveUsbip, type UsbipServer } from "../../harness/expose/usbip-server.js";
import { loadImage } from "../../harness/protocol/dfu/index.js";
import {
  encodeDeviceRecord,
  encodeOpHeader,
  OpCode,
  URB_HEADER_SIZE,
  UrbCommand,
  USBIP_VERSION,
} from "../../harness/protocol/usbip/index.js";
import { WallClock } from "../../harness/transport/clock.js";
import { UsbipBus, UsbipUnreachableError } from "../../harness/transport/usbip-device.js";
import { type Board, poweredBoard, vectorTable } from "../devices/stm32-dfu/helpers.js";

const ROM = { vendorId: 0x0483, productId: 0xdf11 };

/** An application image: the board's vector table, then counting bytes. */
function appImage(b: Board, size: number): Uint8Array {
  const image = Uint8Array.from({ length: size }, (_, i) => (i * 7 + 3) & 0xff);
  image.set(vectorTable(b.dev));
  return image;
}
const clock = new WallClock();

describe("transport/usbip-device: a WebUSB device imported over USB/IP", () => {
  let board: Board;
  let server: UsbipServer;
  let bus: UsbipBus;
  const opened: { close(): Promise<void> }[] = [];

  beforeEach(async () => {
    board = await poweredBoard("stm32l432kc");
    await board.bus.waitFor(ROM, { timeoutMs: 5000 });
    server = await serveUsbip(board.port, { port: 0 });
    bus = new UsbipBus({ host: "127.0.0.1", port: server.port, busid: "1-1", timeoutMs: 5000 });
  });

  afterEach(async () => {
    for (const c of opened.splice(0)) await c.close().catch(() => {});
    await server.close();
  });

  it("lists the ROM with the identity its descriptors give: ids, strings, the DFU interface's alt names", async () => {
    const [d, ...more] = await bus.list();
    expect(more).to.have.length(0);
    expect(d).to.include({ vendorId: 0x0483, productId: 0xdf11, deviceVersionMajor: 0x22 });
    expect(d!.serialNumber).to.equal(board.dev.serial);
    expect(d!.productName).to.equal("STM32  BOOTLOADER");
    expect(d!.configuration).to.equal(null);
    const names = d!.configurations[0]!.interfaces[0]!.alternates.map((a) => a.interfaceName);
    expect(names[0]).to.match(/^@Internal Flash {2}\/0x08000000\/0128\*0002Kg$/);
    expect(names).to.have.length(4);
    // One import per remote device in this process: a second bus object finds the same handle.
    const again = new UsbipBus({ host: "127.0.0.1", port: server.port, busid: "1-1" });
    expect((await again.list())[0]).to.equal(d);
    expect(server.imports).to.equal(1);
    await d!.close();
  });

  it("DfuClient runs unchanged on it: download, upload back, leave; the application is imported again by busid", async () => {
    const client = await DfuClient.open(bus, ROM, { clock, timeouts: { enumerateMs: 5000 } });
    opened.push(client);
    const image = appImage(board, 6 * 1024);
    await client.download(loadImage("app.bin", image, { address: 0x0800_0000 }));
    expect(await client.upload(0x0800_0000, image.length)).to.deep.equal(image);
    expect(board.dev.flash.read(0x0800_0000, image.length)).to.deep.equal(image);
    const before = client.device;
    await client.leave(0x0800_0000);
    const app = await client.waitForApplication({ vendorId: 0x0483, productId: 0x5740 }, 5000);
    expect(app).to.not.equal(before);
    expect(server.imports).to.equal(2);
    await app.close();
  });

  it("a connection dropped mid-download is a disconnect (infrastructure), then the dead server is named", async () => {
    const client = await DfuClient.open(bus, ROM, { clock, timeouts: { enumerateMs: 2000 } });
    const image = appImage(board, 64 * 1024);
    let blocks = 0;
    client.events.on("progress", () => {
      if (++blocks === 3) void server.close();
    });
    const failed = await client.download(loadImage("app.bin", image, { address: 0x0800_0000 })).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(failed).to.be.instanceOf(DfuError);
    expect((failed as DfuError).kind).to.equal("disconnected");
    expect((failed as DfuError).category).to.equal("infrastructure");
    const again = await bus.list().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(again).to.be.instanceOf(UsbipUnreachableError);
    expect((again as Error).message).to.contain(`127.0.0.1:${server.port}`);
    expect((again as UsbipUnreachableError).category).to.equal("infrastructure");
  });
});

type Corruption =
  | { field: "version"; value: number }
  | { field: "code"; value: number }
  | { field: "busid"; value: string }
  | { field: "actual_length"; value: number }
  | { field: "command"; value: number };

/**
 * A server that imports "1-1" and answers the first URB, with one field of its replies
 * wrong as `c` says.
 */
async function badServer(c: Corruption): Promise<{ server: Server; port: number }> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on("error", () => {});
    let got = Buffer.alloc(0);
    let imported = false;
    socket.on("data", (chunk) => {
      got = Buffer.concat([got, chunk]);
      if (!imported && got.length >= 40) {
        imported = true;
        got = got.subarray(40);
        const header = encodeOpHeader({
          version: c.field === "version" ? c.value : USBIP_VERSION,
          code: c.field === "code" ? c.value : OpCode.REP_IMPORT,
          status: 0,
        });
        const record = encodeDeviceRecord({
          path: "/sys/x",
          busid: c.field === "busid" ? c.value : "1-1",
          busnum: 1,
          devnum: 2,
          speed: 2,
          idVendor: 0x0483,
          idProduct: 0xdf11,
          bcdDevice: 0x2200,
          bDeviceClass: 0,
          bDeviceSubClass: 0,
          bDeviceProtocol: 0,
          bConfigurationValue: 0,
          bNumConfigurations: 1,
          bNumInterfaces: 1,
        });
        socket.write(Buffer.concat([header, record]));
      }
      if (imported && got.length >= URB_HEADER_SIZE) {
        const seqnum = got.readUInt32BE(4);
        got = got.subarray(URB_HEADER_SIZE);
        const ret = Buffer.alloc(URB_HEADER_SIZE);
        ret.writeUInt32BE(c.field === "command" ? c.value : UrbCommand.RET_SUBMIT, 0);
        ret.writeUInt32BE(seqnum, 4);
        const length = c.field === "actual_length" ? c.value : 18;
        ret.writeUInt32BE(length, 24);
        socket.write(Buffer.concat([ret, Buffer.alloc(Math.min(length, 4096))]));
      }
    });
  });
  server.on("close", () => {
    for (const s of sockets) s.destroy();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  return { server, port: typeof address === "object" && address ? address.port : 0 };
}

describe("transport/usbip-device: bad replies end in a clear error naming the field", () => {
  it("property: a wrong version, code, busid, actual_length or command is named, and nothing waits past its timeout", async () => {
    const corruption: fc.Arbitrary<Corruption> = fc.oneof(
      fc
        .integer({ min: 0, max: 0xffff })
        .filter((v) => v !== USBIP_VERSION)
        .map((value) => ({ field: "version" as const, value })),
      fc
        .integer({ min: 0, max: 0xffff })
        .filter((v) => v !== OpCode.REP_IMPORT)
        .map((value) => ({ field: "code" as const, value })),
      fc
        .stringMatching(/^[0-9]-[0-9](\.[0-9])?$/)
        .filter((v) => v !== "1-1")
        .map((value) => ({ field: "busid" as const, value })),
      fc.integer({ min: 19, max: 4096 }).map((value) => ({ field: "actual_length" as const, value })),
      fc.constantFrom(0, 1, 2, 5, 0x8003, 0xffffffff).map((value) => ({ field: "command" as const, value })),
    );
    await fc.assert(
      fc.asyncProperty(corruption, async (c) => {
        const { server, port } = await badServer(c);
        try {
          const bus = new UsbipBus({
            host: "127.0.0.1",
            port,
            busid: "1-1",
            timeoutMs: 2000,
            transferTimeoutMs: 2000,
          });
          const error = await bus.list().then(
            () => undefined,
            (e: unknown) => e as Error,
          );
          expect(error, JSON.stringify(c)).to.be.instanceOf(Error);
          const named = {
            version: /OP_REP_IMPORT: version 0x[0-9a-f]{4}, expected 0x0111/,
            code: /OP_REP_IMPORT expected: code 0x[0-9a-f]{4}/,
            busid: /OP_REP_IMPORT: busid '[^']+', expected '1-1'/,
            actual_length: /RET_SUBMIT seqnum 1: actual_length \d+ exceeds transfer_buffer_length 18/,
            command: /(unknown URB command|CMD_SUBMIT|CMD_UNLINK|RET_UNLINK)/,
          }[c.field];
          expect(error!.message).to.match(named);
        } finally {
          await new Promise<void>((resolve) => server.close(() => resolve()));
        }
      }),
      { numRuns: 30 },
    );
  });
});
