/**
 * openSerialPort against real kernel ptys: socat joins two ptys back to back, so what one
 * end writes the other reads, through the real `serialport` binding. Killing socat
 * removes the ptys under the open ports, as unplugging a USB-serial adapter would.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { EventEmitter } from "node:events";
import { existsSync } from "node:fs";
import { expect } from "chai";
import type { SerialPort } from "serialport";
import { WallClock } from "../../harness/transport/clock.js";
import { ReadTimeoutError, StreamClosedError } from "../../harness/transport/errors.js";
import { openSerialPort, SerialPortStream } from "../../harness/transport/serial-port-stream.js";
import { rejectionOf } from "./helpers.js";

const clock = new WallClock();
// ptys refuse even parity, so 8N1 here even though the STM32 bootloader wants 8E1.
const options = { baudRate: 115200, parity: "none", dataBits: 8, stopBits: 1 } as const;

describe("transport/serial-port-stream (pty via socat)", function () {
  this.timeout(15_000);
  const links = [`/tmp/update-hil-${process.pid}-a`, `/tmp/update-hil-${process.pid}-b`] as const;
  let socat: ChildProcess | undefined;
  let a: SerialPortStream | undefined;
  let b: SerialPortStream | undefined;

  before(async function () {
    if (spawnSync("which", ["socat"]).status !== 0) this.skip(); // socat not installed (apt-get install -y socat)
    socat = spawn("socat", ["-d", "-d", ...links.map((l) => `pty,raw,echo=0,link=${l}`)], {
      stdio: "ignore",
    });
    const deadline = clock.now() + 5000;
    while (!links.every((l) => existsSync(l))) {
      if (clock.now() > deadline || socat.exitCode !== null)
        throw new Error(`socat did not create ${links.join(", ")}`);
      await clock.sleep(20);
    }
    a = await openSerialPort(links[0], { ...options, clock });
    b = await openSerialPort(links[1], { ...options, clock });
  });

  after(async () => {
    if (socat && socat.exitCode === null) socat.kill("SIGKILL");
    await a?.close();
    await b?.close();
  });

  it("names the path when a port cannot be opened", async () => {
    const error = await rejectionOf(openSerialPort("/tmp/update-hil-no-such-port", options));
    expect(error.message).to.match(/^cannot open serial port \/tmp\/update-hil-no-such-port: /);
  });

  it("carries bytes both ways, exactly n per read", async () => {
    await a!.write(Uint8Array.of(0x7f, 0x00, 0xff));
    expect(await b!.read(3, { timeoutMs: 2000 })).to.deep.equal(Uint8Array.of(0x7f, 0x00, 0xff));
    const block = Uint8Array.from({ length: 300 }, (_, i) => (i * 7) & 0xff);
    await b!.write(block);
    expect(await a!.read(100, { timeoutMs: 2000 })).to.deep.equal(block.subarray(0, 100));
    expect(await a!.read(200, { timeoutMs: 2000 })).to.deep.equal(block.subarray(100));
  });

  it("times out with the partial bytes", async () => {
    await b!.write(Uint8Array.of(0x79));
    const error = (await rejectionOf(a!.read(2, { timeoutMs: 300 }))) as ReadTimeoutError;
    expect(error).to.be.instanceOf(ReadTimeoutError);
    expect(error.partial).to.deep.equal(Uint8Array.of(0x79));
  });

  it("rejects a pending read promptly with StreamClosedError naming the path when the pty vanishes", async () => {
    const started = clock.now();
    const pending = rejectionOf(a!.read(1, { timeoutMs: 10_000 }));
    await clock.sleep(50);
    socat!.kill("SIGTERM");
    const error = (await pending) as StreamClosedError;
    expect(clock.now() - started, "long before the 10 s timeout").to.be.below(5000);
    expect(error).to.be.instanceOf(StreamClosedError);
    expect(error.disconnected).to.equal(true);
    expect(error.message).to.include(links[0]);
    expect(a!.closed).to.equal(true);
    expect(await rejectionOf(a!.write(Uint8Array.of(1)))).to.be.instanceOf(StreamClosedError);
  });
});

describe("transport/serial-port-stream: a write to a device that went away", () => {
  /** A port whose write fails as the tty's would once unplugged, before serialport's own close arrives. */
  function unpluggedPort(error: Error) {
    const port = Object.assign(new EventEmitter(), {
      isOpen: true,
      write: (_: Buffer, done: (err: Error) => void) => done(error),
      close: (done: () => void) => {
        port.isOpen = false;
        done();
      },
    });
    return port;
  }

  for (const [label, error] of [
    ["errno EIO", Object.assign(new Error("EIO: i/o error, write"), { code: "EIO" })],
    ["ENXIO named only in the message", new Error("ENXIO: no such device or address, write")],
  ] as const) {
    it(`${label}: StreamClosedError (disconnected), the stream closed and the port released`, async () => {
      const port = unpluggedPort(error);
      const stream = new SerialPortStream(port as unknown as SerialPort, "/dev/ttyACM0", clock);
      const err = await rejectionOf(stream.write(Uint8Array.of(0x50)));
      expect(err).to.be.instanceOf(StreamClosedError);
      expect((err as StreamClosedError).disconnected).to.equal(true);
      expect((err as Error).message).to.include("/dev/ttyACM0");
      expect(stream.closed).to.equal(true);
      expect(port.isOpen, "released").to.equal(false);
    });
  }

  it("another write error stays a plain error naming the port; the stream stays open", async () => {
    const port = unpluggedPort(Object.assign(new Error("EAGAIN: resource busy"), { code: "EAGAIN" }));
    const stream = new SerialPortStream(port as unknown as SerialPort, "/dev/ttyACM0", clock);
    const err = await rejectionOf(stream.write(Uint8Array.of(0x50)));
    expect(err).to.not.be.instanceOf(StreamClosedError);
    expect((err as Error).message).to.equal("cannot write /dev/ttyACM0: EAGAIN: resource busy");
    expect(stream.closed).to.equal(false);
  });
});
