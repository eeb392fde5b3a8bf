/**
 * The ROM's receive buffer on the wall clock of `hil emulate`: a quiet window (Get Checksum's
 * form) is decided on what has arrived, including bytes that reached the process while it was
 * busy. Node runs due timers before it reads ready sockets and pipes, so an emulator stalled
 * past the window would otherwise see silence where the host had answered in time.
 */
import { once } from "node:events";
import { connect, createServer, type Server, type Socket } from "node:net";
import { expect } from "chai";
import { ByteSource } from "../../../harness/devices/stm32/usart/byte-source.js";
import { WallClock } from "../../../harness/transport/clock.js";

/** Holds the event loop for `ms` as a stalled emulator (GC, a starved CPU) would. */
function stall(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

describe("devices/stm32 USART ByteSource on the wall clock", () => {
  let server: Server;
  let host: Socket;
  let device: Socket;
  beforeEach(async () => {
    server = createServer();
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    const address = server.address() as { port: number };
    const accepted = once(server, "connection");
    host = connect(address.port, "127.0.0.1");
    await once(host, "connect");
    [device] = (await accepted) as [Socket];
  });
  afterEach(() => {
    host.destroy();
    device.destroy();
    server.close();
  });

  it("counts bytes that arrived while the process was stalled past the window", async () => {
    const source = new ByteSource();
    device.on("data", (chunk: Buffer) => source.push(new Uint8Array(chunk)));
    const arrived = source.arrivesWithin(new WallClock(), 20);
    host.write(Uint8Array.of(0x04, 0xc1, 0x1d, 0xb7, 0x6f)); // the polynomial, in time
    stall(100); // both the timer and the bytes are due when the loop runs again
    expect(await arrived).to.equal(true);
    expect([...(await source.take(5))]).to.deep.equal([0x04, 0xc1, 0x1d, 0xb7, 0x6f]);
  });

  it("reports silence when nothing came within the window", async () => {
    const source = new ByteSource();
    device.on("data", (chunk: Buffer) => source.push(new Uint8Array(chunk)));
    expect(await source.arrivesWithin(new WallClock(), 20)).to.equal(false);
  });
});
