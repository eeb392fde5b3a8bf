/**
 * Lab rig files build real backends (no placeholders), and the relay schema's custom
 * frames are checked with file, line and field.
 */
import { expect } from "chai";
import { parseRigFile, RigFileError } from "../../harness/rig/load.js";
import { buildRig } from "../../harness/rig/rig.js";

const FILE = "rigs/lab.yaml";
const yaml = (...lines: string[]) => `${lines.join("\n")}\n`;

const RIG = yaml(
  "name: lab",
  "boards:",
  "  - id: l432-a",
  "    family: stm32l432",
  "    capabilities: [power-cut, usart]",
  "    serial: { byId: /dev/serial/by-id/usb-FTDI_TTL232R-3V3_FT9XL1ZA-if00-port0 }",
  "    power: { backend: relay, usbSerial: LCUS1, protocol: lcus, channel: 1 }",
  "    boot: { backend: dtr-rts, bootloader: [{ rts: true }, { dtr: true, waitMs: 50 }, { dtr: false }], application: [{ rts: false }] }",
  "    reset: { backend: dtr-rts, sequence: [{ dtr: true, waitMs: 50 }, { dtr: false }] }",
  "  - id: wb55-a",
  "    family: stm32wb55",
  "    capabilities: [power-cut, fus]",
  '    usb: { vid: "0483", pid: "df11", serial: 206B37864E48 }',
  "    power: { backend: scpi, usbSerial: PSU1, channel: 2, voltage: 5.0 }",
  "    boot: { backend: gpio, chip: gpiochip0, line: 17 }",
  "    reset: { backend: relay, usbSerial: R4X, protocol: custom, channel: 2, pulseMs: 40,",
  '             custom: { encoding: hex, on: "A0 {channel} 01 {sum}", off: "A0 {channel} 00 {sum}" } }',
  "  - id: tkey-a",
  "    family: tkey",
  "    capabilities: []",
  '    usb: { vid: "1207", pid: "8887", port: 1-1.1 }',
  "    power: { backend: uhubctl, location: 1-1, port: 1 }",
  '    reset: { backend: command, command: "ykush-reset {board}" }',
);

describe("rig/rig: lab boards", () => {
  it("builds every lab backend the rig file names, with a locator and timeouts", () => {
    const rig = buildRig(parseRigFile(RIG, FILE), FILE);
    const [l432, wb55, tkey] = rig.boards;
    expect([l432, wb55, tkey].map((b) => b!.power.backend)).to.deep.equal(["relay", "scpi", "uhubctl"]);
    expect([l432, wb55, tkey].map((b) => b!.boot?.backend)).to.deep.equal(["dtr-rts", "gpio", undefined]);
    expect([l432, wb55, tkey].map((b) => b!.reset?.backend)).to.deep.equal(["dtr-rts", "relay", "command"]);
    for (const b of rig.boards) {
      expect(b.locator, b.id).to.not.equal(undefined);
      expect(b.timeouts?.enumerateMs, b.id).to.be.a("number");
    }
    expect(l432!.locator!.hasSerialPort).to.equal(true);
    expect(tkey!.locator!.hasUsb).to.equal(true);
  });

  it("custom relay frames are checked with file, line and field", () => {
    const bad = RIG.replace('off: "A0 {channel} 00 {sum}"', 'off: "A0 {chan} 00"').replace(
      "protocol: lcus, channel: 1",
      "protocol: lcus, channel: 0",
    );
    let error: RigFileError | undefined;
    try {
      parseRigFile(bad, FILE);
    } catch (e) {
      error = e as RigFileError;
    }
    expect(error).to.be.instanceOf(RigFileError);
    const text = error!.message;
    expect(text).to.include(`${FILE}:7 boards[0].power.channel: LCUS relay boards number channels from 1`);
    expect(text).to.match(/rigs\/lab\.yaml:1[67] boards\[1\]\.reset\.custom\.off: expected hex bytes/);
  });

  it("protocol custom without frames, and frames without protocol custom, are errors", () => {
    const missing = RIG.replace(
      /,\n\s+custom: \{ encoding: hex, on: "A0 \{channel\} 01 \{sum\}", off: "A0 \{channel\} 00 \{sum\}" \} \}/,
      " }",
    );
    expect(() => parseRigFile(missing, FILE)).to.throw(
      /boards\[1\]\.reset\.custom: missing: protocol custom needs custom frames/,
    );
    const stray = RIG.replace("protocol: custom, channel: 2", "protocol: numato, channel: 2");
    expect(() => parseRigFile(stray, FILE)).to.throw(
      /boards\[1\]\.reset\.custom: custom frames need protocol custom, not numato/,
    );
  });
});
