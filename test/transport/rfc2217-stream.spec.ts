/**
 * The RFC 2217 and raw TCP streams against a real ser2net 4.3.11 on loopback (its own
 * config, free ports) in front of one end of a socat pty pair; the test holds the other
 * end. What a pty cannot show (modem lines) and servers that refuse go to a scripted
 * server (fake-rfc2217.ts).
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import {
  freePort,
  type Ser2netProcess,
  ser2netCommand,
  startSer2net,
} from "../../harness/expose/ser2net-process.js";
import { InfrastructureError } from "../../harness/seams/errors.js";
import { WallClock } from "../../harness/transport/clock.js";
import { StreamClosedError } from "../../harness/transport/errors.js";
import { openPort } from "../../harness/transport/open-port.js";
import { ComPort, Control } from "../../harness/transport/rfc2217-codec.js";
import { openRfc2217, Rfc2217Error, type Rfc2217Stream } from "../../harness/transport/rfc2217-stream.js";
import { openTcpStream, RemotePortError } from "../../harness/transport/tcp-stream.js";
import { openPty, type PtyStream } from "../../harness/transport/tty-stream.js";
import { FakeRfc2217 } from "./fake-rfc2217.js";
import { rejectionOf } from "./helpers.js";

const clock = new WallClock();

function randomBytes(n: number, seed: number): Uint8Array {
  let x = seed;
  return Uint8Array.from({ length: n }, () => {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    return x >>> 24;
  });
}

describe("transport/rfc2217-stream against ser2net on loopback", function () {
  this.timeout(30_000);
  let dir = "";
  const socats: ChildProcess[] = [];
  let ser2net: Ser2netProcess | undefined;
  let peer: PtyStream | undefined;
  let rawPeer: PtyStream | undefined;
  let stream: Rfc2217Stream | undefined;

  before(async function () {
    if (!ser2netCommand() || spawnSync("which", ["socat"]).status !== 0) this.skip();
    dir = mkdtempSync(join(tmpdir(), "hil-rfc2217-"));
    // One pty pair per accepter: ser2net lets go of a device only a while after its client left.
    const links = ["dev", "peer", "raw-dev", "raw-peer"].map((name) => join(dir, name));
    for (const pair of [links.slice(0, 2), links.slice(2)])
      socats.push(
        spawn(
          "socat",
          pair.map((l) => `pty,raw,echo=0,link=${l}`),
          { stdio: "ignore" },
        ),
      );
    const deadline = clock.now() + 5000;
    while (!links.every((l) => existsSync(l))) {
      if (clock.now() > deadline) throw new Error("socat did not create the ptys");
      await clock.sleep(20);
    }
    ser2net = await startSer2net([
      { device: links[0]!, kind: "rfc2217" },
      { device: links[2]!, kind: "raw" },
    ]);
    peer = openPty(links[1]!, { clock });
    rawPeer = openPty(links[3]!, { clock });
  });

  afterEach(async () => {
    await stream?.close();
    stream = undefined;
  });

  after(async () => {
    await peer?.close();
    await rawPeer?.close();
    await ser2net?.stop();
    for (const socat of socats) socat.kill("SIGKILL");
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("raw tcp passes 0xFF as it is, both ways", async () => {
    const raw = await openTcpStream(ser2net!.addresses[1]!, { clock });
    try {
      await raw.write(Uint8Array.of(0xff, 0xfb, 0x2c, 0xff));
      expect([...(await rawPeer!.read(4, { timeoutMs: 2000 }))]).to.deep.equal([0xff, 0xfb, 0x2c, 0xff]);
      await rawPeer!.write(Uint8Array.of(0xff, 0xff, 7));
      expect([...(await raw.read(3, { timeoutMs: 2000 }))]).to.deep.equal([0xff, 0xff, 7]);
    } finally {
      await raw.close();
    }
  });

  it("sets the remote port's baud rate (the pty's termios shows it) and agrees on 8E1 without a warning", async () => {
    stream = await openRfc2217(ser2net!.addresses[0]!, { baudRate: 57600, parity: "even", clock });
    const stty = spawnSync("stty", ["-F", join(dir, "dev"), "speed"], { encoding: "utf8" });
    expect(stty.stdout.trim()).to.equal("57600");
    // ser2net answers 3 (even) although the kernel drops PARENB on a pty: nothing to see over the wire.
    expect(stream.warnings).to.deep.equal([]);
  });

  it("carries 64 KB of every byte value both ways, 0xFF escaped on the wire and back", async () => {
    stream = await openRfc2217(ser2net!.addresses[0]!, { baudRate: 115200, parity: "even", clock });
    const out = randomBytes(65536, 1);
    out.fill(0xff, 100, 300); // runs of IAC
    await stream.write(out);
    expect(Buffer.from(await peer!.read(out.length, { timeoutMs: 10_000 })).equals(out)).to.equal(true);
    const back = randomBytes(65536, 2);
    back.fill(0xff, 0, 50);
    await peer!.write(back);
    expect(Buffer.from(await stream.read(back.length, { timeoutMs: 10_000 })).equals(back)).to.equal(true);
  });

  it("flush purges what the board sent before it, and keeps what comes after", async () => {
    stream = await openRfc2217(ser2net!.addresses[0]!, { baudRate: 115200, clock });
    await peer!.write(Uint8Array.of(1, 2, 3));
    await clock.sleep(100);
    await stream.flush();
    expect([...stream.readAvailable()]).to.deep.equal([]);
    await peer!.write(Uint8Array.of(4, 0xff));
    expect([...(await stream.read(2, { timeoutMs: 2000 }))]).to.deep.equal([4, 0xff]);
  });

  it("DTR on a pty behind ser2net (no modem lines, no answer) fails naming host, port and command", async () => {
    stream = await openRfc2217(ser2net!.addresses[0]!, { baudRate: 115200, clock, timeoutMs: 500 });
    const error = await rejectionOf(stream.setSignals({ dtr: false }));
    expect(error).to.be.instanceOf(Rfc2217Error).and.instanceOf(InfrastructureError);
    expect(error.message).to.equal(
      `rfc2217 ${ser2net!.addresses[0]}: no answer to SET-CONTROL (DTR off) within 500 ms`,
    );
  });

  it("ser2net killed while a read waits: the read fails at once as infrastructure, not at its timeout", async () => {
    stream = await openRfc2217(ser2net!.addresses[0]!, { baudRate: 115200, clock });
    const started = clock.now();
    const pending = rejectionOf(stream.read(10, { timeoutMs: 20_000 }));
    await ser2net!.kill();
    const error = await pending;
    expect(error).to.be.instanceOf(StreamClosedError);
    expect((error as StreamClosedError).disconnected).to.equal(true);
    expect((error as StreamClosedError).category).to.equal("infrastructure");
    expect(clock.now() - started).to.be.below(10_000);
    ser2net = undefined;
  });
});

describe("transport/rfc2217-stream against a scripted server", () => {
  let server: FakeRfc2217 | undefined;
  afterEach(() => server?.close());

  it("DTR/RTS go out as SET-CONTROL 8/9/11/12, each answered, lines not named left alone", async () => {
    server = await new FakeRfc2217().listen();
    const stream = await openRfc2217(server.address, { baudRate: 115200, parity: "even", clock });
    await stream.setSignals({ dtr: false, rts: true });
    await stream.setSignals({ rts: false });
    await stream.setSignals({ dtr: true });
    await stream.close();
    expect(server.requests).to.deep.equal([
      [ComPort.setBaudRate, 115200],
      [ComPort.setDataSize, 8],
      [ComPort.setParity, 3],
      [ComPort.setStopSize, 1],
      [ComPort.setControl, Control.noFlowControl],
      [ComPort.setControl, Control.dtrOff],
      [ComPort.setControl, Control.rtsOn],
      [ComPort.setControl, Control.rtsOff],
      [ComPort.setControl, Control.dtrOn],
    ]);
    // WILL COM-PORT first, then SET-BAUDRATE 115200 (0x0001C200), byte for byte.
    expect(server.wire.slice(0, 13)).to.deep.equal([
      0xff, 0xfb, 0x2c, 0xff, 0xfa, 0x2c, 0x01, 0x00, 0x01, 0xc2, 0x00, 0xff, 0xf0,
    ]);
  });

  it("a refused baud rate is an error naming host, port and both values; the connection is closed", async () => {
    server = await new FakeRfc2217({ answer: (c, v) => (c === ComPort.setBaudRate ? 9600 : v) }).listen();
    const error = await rejectionOf(openRfc2217(server.address, { baudRate: 115200, clock }));
    expect(error).to.be.instanceOf(Rfc2217Error);
    expect(error.message).to.equal(
      `rfc2217 ${server.address}: the server refused SET-BAUDRATE baud rate 115200 (it answered 9600)`,
    );
  });

  it("a parity the server answers otherwise is a warning, and the line carries on (as on a local pty)", async () => {
    server = await new FakeRfc2217({ answer: (c, v) => (c === ComPort.setParity ? 1 : v) }).listen();
    const stream = await openRfc2217(server.address, { baudRate: 115200, parity: "even", clock });
    expect(stream.warnings).to.deep.equal([
      `rfc2217 ${server.address}: even parity refused by the server (it answered none), line runs without it`,
    ]);
    await stream.write(Uint8Array.of(0x7f, 0xff));
    await stream.close();
    expect(server.data).to.deep.equal([0x7f, 0xff]);
  });

  it("a server that refuses COM-PORT-OPTION, or does not answer, is an error naming it", async () => {
    server = await new FakeRfc2217({ refuseComPort: true }).listen();
    let error = await rejectionOf(openRfc2217(server.address, { baudRate: 115200, clock }));
    expect(error.message).to.equal(
      `rfc2217 ${server.address}: the server refuses COM-PORT-OPTION (not an RFC 2217 port: use tcp:)`,
    );
    await server.close();
    server = await new FakeRfc2217({ answer: () => undefined }).listen();
    error = await rejectionOf(openRfc2217(server.address, { baudRate: 115200, clock, timeoutMs: 300 }));
    expect(error.message).to.equal(
      `rfc2217 ${server.address}: no answer to SET-BAUDRATE (baud rate 115200) within 300 ms`,
    );
  });

  it("hil usart --port rfc2217:host:port opens it 8E1, with the server's refusals as notes", async () => {
    server = await new FakeRfc2217({ answer: (c, v) => (c === ComPort.setParity ? 1 : v) }).listen();
    const { stream, notes } = await openPort(`rfc2217:${server.address}`, {
      baudRate: 57600,
      parity: "even",
      clock,
    });
    await stream.close();
    expect(server.requests.slice(0, 3)).to.deep.equal([
      [ComPort.setBaudRate, 57600],
      [ComPort.setDataSize, 8],
      [ComPort.setParity, 3],
    ]);
    expect(notes).to.deep.equal([
      `rfc2217 ${server.address}: even parity refused by the server (it answered none), line runs without it`,
    ]);
  });

  it("a closed port is an InfrastructureError naming host and port", async () => {
    const port = await freePort();
    const error = await rejectionOf(openRfc2217(`127.0.0.1:${port}`, { baudRate: 115200, clock }));
    expect(error).to.be.instanceOf(RemotePortError).and.instanceOf(InfrastructureError);
    expect(error.message).to.equal(`rfc2217 127.0.0.1:${port}: cannot connect (ECONNREFUSED)`);
    const raw = await rejectionOf(openTcpStream(`127.0.0.1:${port}`, { clock }));
    expect(raw.message).to.equal(`tcp 127.0.0.1:${port}: cannot connect (ECONNREFUSED)`);
    expect((await rejectionOf(openTcpStream("rack3", { clock }))).message).to.match(
      /expected host:port.*"rack3"/,
    );
  });
});
