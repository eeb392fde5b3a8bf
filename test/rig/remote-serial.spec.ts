/**
 * Rig files naming a serial port on a rack host (`rfc2217:` / `tcp:`): what the schema
 * takes and refuses, and DTR/RTS boot and reset sequences played remotely as RFC 2217
 * SET-CONTROL requests, on the link's own connection or on one of their own (against a
 * scripted RFC 2217 server: a pty behind ser2net has no modem lines to show them).
 */
import { expect } from "chai";
import { parseRigFile } from "../../harness/rig/load.js";
import { buildRig } from "../../harness/rig/rig.js";
import { openUsartLink } from "../../harness/rig/usart-link.js";
import { ComPort, Control } from "../../harness/transport/rfc2217-codec.js";
import { FakeRfc2217 } from "../transport/fake-rfc2217.js";

const FILE = "rigs/rack3.yaml";

function rig(serial: string, extra: string[] = []): string {
  return [
    "name: rack3",
    "boards:",
    "  - id: l432",
    "    family: stm32l432",
    "    capabilities: [usart]",
    `    serial: ${serial}`,
    "    power: { backend: manual }",
    ...extra,
  ].join("\n");
}

function problems(text: string): string[] {
  try {
    parseRigFile(text, FILE);
    return [];
  } catch (e) {
    return (e as Error).message
      .split("\n")
      .slice(1)
      .map((l) => l.trim());
  }
}

describe("rig: serial ports on a rack host (rfc2217, tcp)", () => {
  let server: FakeRfc2217 | undefined;
  afterEach(() => server?.close());

  it("takes rfc2217 and tcp host:port and refuses a bad address or two kinds at once", () => {
    const board = parseRigFile(rig('{ rfc2217: "rack3:3001", baudRate: 57600 }'), FILE).boards[0]!;
    expect(board.kind === "lab" && board.serial).to.deep.equal({ rfc2217: "rack3:3001", baudRate: 57600 });
    expect(problems(rig('{ tcp: "[::1]:4001" }'))).to.deep.equal([]);
    expect(problems(rig('{ rfc2217: "rack3" }'))).to.deep.equal([
      'rigs/rack3.yaml:6 boards[0].serial.rfc2217: expected host:port (port 1..65535), got "rack3"',
    ]);
    expect(problems(rig('{ tcp: "rack3:70000" }'))).to.deep.equal([
      'rigs/rack3.yaml:6 boards[0].serial.tcp: expected host:port (port 1..65535), got "rack3:70000"',
    ]);
    expect(problems(rig('{ byId: /dev/serial/by-id/usb-x-if00, rfc2217: "rack3:3001" }'))).to.deep.equal([
      "rigs/rack3.yaml:6 boards[0].serial.rfc2217: give one way to reach the port, not byId and rfc2217",
    ]);
    expect(
      problems(rig('{ tcp: "rack3:4001" }', ["    reset: { backend: dtr-rts, sequence: [{ dtr: true }] }"])),
    ).to.deep.equal([
      "rigs/rack3.yaml:8 boards[0].reset.backend: backend dtr-rts needs modem lines: serial.tcp carries bytes only (use rfc2217)",
    ]);
  });

  it("a dtr-rts reset with no link open plays its sequence as SET-CONTROL on a connection of its own", async () => {
    server = await new FakeRfc2217().listen();
    const text = rig(`{ rfc2217: "${server.address}" }`, [
      "    reset: { backend: dtr-rts, sequence: [{ dtr: true, rts: false, waitMs: 1 }, { dtr: false }] }",
    ]);
    const board = buildRig(parseRigFile(text, FILE), FILE).boards[0]!;
    await board.reset!.reset();
    expect(server.requests.filter(([c]) => c === ComPort.setControl).map(([, v]) => v)).to.deep.equal([
      Control.noFlowControl,
      Control.dtrOn,
      Control.rtsOff,
      Control.dtrOff,
    ]);
  });

  it("with the USART link open, the boot sequence goes over the link's own connection (8E1 set first)", async () => {
    server = await new FakeRfc2217().listen();
    const text = rig(`{ rfc2217: "${server.address}" }`, [
      "    boot: { backend: dtr-rts, bootloader: [{ rts: true }, { dtr: true, waitMs: 1 }, { dtr: false }], application: [{ rts: false }] }",
    ]);
    const board = buildRig(parseRigFile(text, FILE), FILE).boards[0]!;
    const link = await openUsartLink(board);
    try {
      await board.boot!.bootloader();
      expect(server.requests).to.deep.equal([
        [ComPort.setBaudRate, 115200],
        [ComPort.setDataSize, 8],
        [ComPort.setParity, 3],
        [ComPort.setStopSize, 1],
        [ComPort.setControl, Control.noFlowControl],
        [ComPort.setControl, Control.rtsOn],
        [ComPort.setControl, Control.dtrOn],
        [ComPort.setControl, Control.dtrOff],
      ]);
    } finally {
      await link.close();
    }
  });
});
