import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import { execa } from "execa";
import {
  loadRigFile,
  loadRigFileSync,
  parseRigFile,
  projectRoot,
  RigFileError,
  resolveRigPath,
} from "../../harness/rig/load.js";
import { DEFAULT_TIMEOUTS, type LabBoardSpec } from "../../harness/rig/schema.js";

const FILE = "rigs/lab.yaml";
const FAMILIES = "stm32l432, stm32wb55, tkey, nrf52840, sim-nor";

/** Joins lines; the line numbers in expectations below count from the first. */
const yaml = (...lines: string[]) => `${lines.join("\n")}\n`;

/** A valid one-board lab rig, lines 1-10; tests replace or append lines. */
const LAB = [
  "name: lab", // 1
  "boards:", // 2
  "  - id: l432-a", // 3
  "    family: stm32l432", // 4
  "    capabilities: [power-cut, usb-dfu]", // 5
  '    usb: { vid: "0483", pid: "df11", port: 1-1.2 }', // 6
  "    power:", // 7
  "      backend: scpi", // 8
  "      byId: /dev/serial/by-id/usb-psu-if00-port0", // 9
  "      channel: 1", // 10
];

const withLine = (n: number, text: string) => LAB.map((line, i) => (i === n - 1 ? text : line));

/** The problem lines of the RigFileError `text` raises (the message without its header). */
function problems(text: string): string[] {
  try {
    parseRigFile(text, FILE);
  } catch (e) {
    expect(e).to.be.instanceOf(RigFileError);
    return (e as RigFileError).message.split("\n").slice(1);
  }
  expect.fail("expected a RigFileError");
}

describe("rig files: loading and errors", () => {
  it("parses a valid lab file and normalizes it", () => {
    const rig = parseRigFile(yaml(...LAB), FILE);
    expect(rig.name).to.equal("lab");
    const board = rig.boards[0] as LabBoardSpec;
    expect(board.kind).to.equal("lab");
    expect(board.usb).to.deep.equal({ vid: 0x0483, pid: 0xdf11, port: "1-1.2" });
    expect(board.power).to.deep.equal({
      backend: "scpi",
      byId: "/dev/serial/by-id/usb-psu-if00-port0",
      channel: 1,
    });
    expect(board.boot).to.deep.equal({ backend: "none" });
    expect(board.reset).to.deep.equal({ backend: "none" });
    expect(board.timeouts).to.deep.equal(DEFAULT_TIMEOUTS);
    expect(board.info).to.deep.equal({});
  });

  it("usb over USB/IP: usbip HOST:PORT and busid instead of ids; each mix-up named at its field", () => {
    const board = parseRigFile(yaml(...withLine(6, '    usb: { usbip: "rack3:3240", busid: 1-1.4 }')), FILE)
      .boards[0] as LabBoardSpec;
    expect(board.usbip).to.deep.equal({ host: "rack3", port: 3240, busid: "1-1.4" });
    expect(board.usb).to.equal(undefined);
    expect(
      (
        parseRigFile(yaml(...withLine(6, '    usb: { usbip: "[::1]:3240", busid: "2-1" }')), FILE)
          .boards[0] as LabBoardSpec
      ).usbip,
    ).to.deep.equal({ host: "::1", port: 3240, busid: "2-1" });
    expect(problems(yaml(...withLine(6, '    usb: { usbip: "rack3:3240" }')))).to.deep.equal([
      "rigs/lab.yaml:6 boards[0].usb.busid: missing: the device's bus id on the USB/IP server (usbip list -r HOST prints it)",
    ]);
    expect(problems(yaml(...withLine(6, '    usb: { usbip: "rack3", busid: 1-1 }')))).to.deep.equal([
      'rigs/lab.yaml:6 boards[0].usb.usbip: expected the USB/IP server as HOST:PORT, such as "rack3:3240"',
    ]);
    expect(
      problems(yaml(...withLine(6, '    usb: { usbip: "rack3:3240", busid: 1-1, port: 1-2 }'))),
    ).to.deep.equal([
      "rigs/lab.yaml:6 boards[0].usb.port: a port path names a port of this host; a USB/IP device is found by busid",
    ]);
    expect(problems(yaml(...withLine(6, '    usb: { vid: "0483", pid: "df11", busid: 1-1 }')))).to.deep.equal(
      [
        'rigs/lab.yaml:6 boards[0].usb.busid: busid names a device on a USB/IP server: add usbip: "HOST:PORT"',
      ],
    );
    expect(problems(yaml(...withLine(6, '    usb: { pid: "df11" }')))).to.deep.equal([
      'rigs/lab.yaml:6 boards[0].usb.vid: missing: the USB vendor id, such as "0483" (or usbip and busid)',
    ]);
  });

  it("each board says where its fields are (file:line and field), for findings about them", () => {
    const board = parseRigFile(yaml(...LAB), FILE).boards[0]!;
    expect(board.where?.(["usb"])).to.equal(`${FILE}:6 boards[0].usb`);
    expect(board.where?.(["power", "channel"])).to.equal(`${FILE}:10 boards[0].power.channel`);
    expect(board.where?.([])).to.equal(`${FILE}:3 boards[0]`);
    // A field the file leaves out (defaults) is reported at its parent, as validation errors are.
    expect(board.where?.(["serial"])).to.equal(`${FILE}:3 boards[0].serial`);
  });

  it("boot none takes how a lab board is strapped (startsIn); an emulated board refuses it", () => {
    const lab = (boot: string) =>
      (parseRigFile(yaml(...LAB, `    boot: ${boot}`), FILE).boards[0] as LabBoardSpec).boot;
    expect(lab("{ backend: none, startsIn: application }")).to.deep.equal({
      backend: "none",
      startsIn: "application",
    });
    expect(problems(yaml(...LAB, "    boot: { backend: none, startsIn: rom }"))[0]).to.match(
      /boards\[0\]\.boot\.startsIn: expected one of bootloader, application, got string "rom"/,
    );
    const emulated = yaml(
      "name: sim",
      "boards:",
      "  - id: l432-sim",
      "    family: stm32l432",
      "    capabilities: []",
      "    emulated: {}",
      "    boot: { backend: none, startsIn: bootloader }",
    );
    expect(problems(emulated)).to.deep.equal([
      `${FILE}:7 boards[0].boot.startsIn: startsIn is how a lab board is strapped; an emulated board starts where its emulator says`,
    ]);
  });

  it("fills emulated boards' controls and merges timeouts board over rig over defaults", () => {
    const rig = parseRigFile(
      yaml(
        "name: sim",
        "timeouts: { enumerateMs: 100, settleMs: 7 }",
        "boards:",
        "  - id: nor",
        "    family: sim-nor",
        "    capabilities: [flash-faults]",
        "    emulated: { seed: 3 }",
        "    timeouts: { settleMs: 9 }",
      ),
      FILE,
    );
    const board = rig.boards[0]!;
    expect(board.kind).to.equal("emulated");
    expect(board.power).to.deep.equal({ backend: "emulated" });
    expect(board.boot).to.deep.equal({ backend: "emulated" });
    expect(board.reset).to.deep.equal({ backend: "emulated" });
    expect(board.timeouts).to.deep.equal({ ...DEFAULT_TIMEOUTS, enumerateMs: 100, settleMs: 9 });
  });

  it("reports a wrong type with file, line, path and what was found, under a header", () => {
    const text = yaml(...withLine(10, '      channel: "one"'));
    expect(() => parseRigFile(text, FILE)).to.throw(
      RigFileError,
      `invalid rig file ${FILE} (1 problem):\n` +
        `${FILE}:10 boards[0].power.channel: expected integer, got string "one"`,
    );
  });

  it("names an unknown key on its own line, suggests the near miss, and still reports what is missing", () => {
    expect(problems(yaml(...withLine(10, "      chanel: 1")))).to.deep.equal([
      `${FILE}:7 boards[0].power.channel: missing (expected integer)`,
      `${FILE}:10 boards[0].power.chanel: unknown key "chanel" (did you mean "channel"?)`,
    ]);
  });

  it("lists the allowed keys when no key is close", () => {
    expect(problems(yaml(...LAB, "    colour: blue"))).to.deep.equal([
      `${FILE}:11 boards[0].colour: unknown key "colour"; allowed: id, family, capabilities, info, emulated, usb, serial, power, boot, reset, timeouts, twin`,
    ]);
  });

  it("reports a missing field at its parent's line", () => {
    const text = yaml(...LAB.filter((_, i) => i !== 3));
    expect(problems(text)).to.deep.equal([
      `${FILE}:3 boards[0].family: missing (expected one of ${FAMILIES})`,
    ]);
  });

  it("reports an unknown family with the families it knows", () => {
    expect(problems(yaml(...withLine(4, "    family: stm32l431")))).to.deep.equal([
      `${FILE}:4 boards[0].family: expected one of ${FAMILIES}, got string "stm32l431" (did you mean stm32l432?)`,
    ]);
    expect(problems(yaml(...withLine(4, "    family: esp32")))).to.deep.equal([
      `${FILE}:4 boards[0].family: expected one of ${FAMILIES}, got string "esp32"`,
    ]);
  });

  it("refuses a bare /dev/ttyACM0 path and says why", () => {
    const why =
      "is a bare device path: its number changes when devices re-enumerate (after a reset, a power cycle or a replug), " +
      "so it can name another board. Use a /dev/serial/by-id/... link (byId) or the USB serial number (usbSerial)";
    expect(problems(yaml(...LAB, "    serial: /dev/ttyACM0"))).to.deep.equal([
      `${FILE}:11 boards[0].serial: "/dev/ttyACM0" ${why}`,
    ]);
    expect(problems(yaml(...LAB, "    serial: { byId: /dev/ttyUSB1 }"))).to.deep.equal([
      `${FILE}:11 boards[0].serial.byId: "/dev/ttyUSB1" ${why}`,
    ]);
    expect(problems(yaml(...LAB, "    serial: /dev/serial/by-id/usb-FTDI-if00"))).to.deep.equal([
      `${FILE}:11 boards[0].serial: expected a mapping: write serial: { byId: "/dev/serial/by-id/usb-FTDI-if00" }`,
    ]);
    expect(problems(yaml(...withLine(9, "      byId: /dev/ttyACM3")))).to.deep.equal([
      `${FILE}:9 boards[0].power.byId: "/dev/ttyACM3" ${why}`,
    ]);
  });

  it("reports duplicate board ids naming both lines", () => {
    const text = yaml(
      ...LAB,
      "  - id: l432-a",
      "    family: tkey",
      "    capabilities: []",
      "    emulated: {}",
    );
    expect(problems(text)).to.deep.equal([
      `${FILE}:11 boards[1].id: duplicate board id "l432-a", first used by boards[0] at line 3`,
    ]);
  });

  it("reports duplicate ids even when another board is malformed", () => {
    const text = yaml(...withLine(10, "      channel: -1"), "  - id: l432-a", "    family: tkey");
    expect(problems(text)).to.deep.equal([
      `${FILE}:10 boards[0].power.channel: expected > 0, got number -1`,
      `${FILE}:11 boards[1].capabilities: missing (expected a list)`,
      `${FILE}:11 boards[1].id: duplicate board id "l432-a", first used by boards[0] at line 3`,
    ]);
  });

  it("reports a YAML syntax error at its line", () => {
    expect(problems(yaml(...withLine(5, "    capabilities: [power-cut")))).to.deep.equal([
      `${FILE}:6 (yaml): flow sequence in block collection must be sufficiently indented and end with a ]`,
    ]);
    expect(problems(yaml("name: lab", "name: lab2", "boards: []"))).to.deep.equal([
      `${FILE}:2 (yaml): map keys must be unique`,
    ]);
  });

  it("keeps the line of a syntax error at the end of the file inside the file", () => {
    expect(problems("name: 'lab\n")).to.deep.equal([`${FILE}:1 (yaml): missing closing 'quote`]);
  });

  it("refuses unquoted USB ids and numeric versions, which YAML turns into other numbers", () => {
    expect(problems(yaml(...withLine(6, "    usb: { vid: 0483, pid: df11x }")))).to.deep.equal([
      `${FILE}:6 boards[0].usb.vid: expected a quoted 4-digit hex string such as "0483", got the number 483 (YAML reads an unquoted 0483 as decimal 483)`,
      `${FILE}:6 boards[0].usb.pid: expected 4 hex digits such as "0483"`,
    ]);
    expect(problems(yaml(...LAB, "    info: { bootloader: 9.10 }"))).to.deep.equal([
      `${FILE}:11 boards[0].info.bootloader: expected string, got number 9.1 (quote it: YAML read a number)`,
    ]);
  });

  it("lists every problem of the file at once, in line order", () => {
    const text = yaml(
      "name: Lab 1",
      "boards:",
      "  - id: A",
      "    family: tkey",
      "    capabilities: [power-cut, teleport]",
      "    usb: { vid: '1207', pid: '8887' }",
      "    power: { backend: usb-hub }",
    );
    expect(problems(text)).to.deep.equal([
      `${FILE}:1 name: rig name must be lowercase letters, digits and '-', starting with a letter or digit`,
      `${FILE}:3 boards[0].id: must be lowercase letters, digits and '-', starting with a letter or digit`,
      `${FILE}:5 boards[0].capabilities[1]: expected one of power-cut, fus, sacrificial, flash-faults, usart, usb-dfu, inspect, got string "teleport"`,
      `${FILE}:7 boards[0].power.backend: expected one of emulated, uhubctl, scpi, relay, gpio, command, manual, got string "usb-hub"`,
    ]);
  });

  it("reports a document that is not a mapping, and an empty board list", () => {
    expect(problems("")).to.deep.equal([`${FILE}:1 (root): expected a mapping, got null`]);
    expect(problems("- a\n- b\n")).to.deep.equal([`${FILE}:1 (root): expected a mapping, got a list`]);
    expect(problems("name: lab\nboards: []\n")).to.deep.equal([
      `${FILE}:2 boards: a rig needs at least one board`,
    ]);
  });

  describe("board rules", () => {
    it("refuses flash-faults on a lab board", () => {
      expect(problems(yaml(...withLine(5, "    capabilities: [flash-faults]")))).to.deep.equal([
        `${FILE}:5 boards[0].capabilities[0]: flash-faults needs an emulated board: flash-level faults are injected by the emulator`,
      ]);
    });

    it("refuses inspect on a lab board", () => {
      expect(problems(yaml(...withLine(5, "    capabilities: [inspect]")))).to.deep.equal([
        `${FILE}:5 boards[0].capabilities[0]: inspect needs an emulated board: white-box access to a lab board needs a debug probe`,
      ]);
    });

    it("refuses power-cut on uhubctl unless the port is marked cutsPower, and on manual power", () => {
      const uhubctl = [...LAB.slice(0, 7), "      backend: uhubctl", "      location: 1-1", "      port: 2"];
      expect(problems(yaml(...uhubctl))).to.deep.equal([
        `${FILE}:5 boards[0].capabilities[0]: power-cut needs a power backend that removes power; uhubctl is not marked ` +
          "cutsPower: true (many hubs switch only the data lines, not VBUS): measure that power really drops, " +
          "then set power.cutsPower: true, or use scpi, relay or gpio",
      ]);
      expect(() => parseRigFile(yaml(...uhubctl, "      cutsPower: true"), FILE)).not.to.throw();
      const command = [...LAB.slice(0, 6), "    power: { backend: command, on: pdu 4 on, off: pdu 4 off }"];
      expect(problems(yaml(...command))).to.deep.equal([
        `${FILE}:5 boards[0].capabilities[0]: power-cut needs a power backend that removes power; command is not marked ` +
          "cutsPower: true: measure that power really drops, then set power.cutsPower: true, or use scpi, relay or gpio",
      ]);
      const manual = [...LAB.slice(0, 6), "    power: { backend: manual }"];
      expect(problems(yaml(...manual))).to.deep.equal([
        `${FILE}:5 boards[0].capabilities[0]: power-cut needs a power backend that cuts at a chosen moment; manual cannot`,
      ]);
    });

    it("needs a power backend and an identity on a lab board", () => {
      expect(problems(yaml(...LAB.slice(0, 6)))).to.deep.equal([
        `${FILE}:3 boards[0].power: missing: a lab board needs a power backend (uhubctl, scpi, relay, gpio, command or manual)`,
      ]);
      expect(problems(yaml(...LAB.slice(0, 5), ...LAB.slice(6)))).to.deep.equal([
        `${FILE}:3 boards[0]: a board needs emulated, or a lab identity: usb and/or serial`,
      ]);
    });

    it("keeps emulated and lab settings apart", () => {
      const text = yaml(
        "name: sim",
        "boards:",
        "  - id: nor",
        "    family: sim-nor",
        "    capabilities: []",
        "    emulated: {}",
        "    usb: { vid: '0483', pid: 'df11' }",
        "    power: { backend: uhubctl, location: 1-1, port: 1 }",
        "    reset: { backend: none }",
      );
      expect(problems(text)).to.deep.equal([
        `${FILE}:7 boards[0].usb: an emulated board has no USB identity; remove usb or emulated`,
        `${FILE}:8 boards[0].power.backend: an emulated board takes backend emulated, not uhubctl`,
      ]);
      expect(problems(yaml(...LAB, "    reset: { backend: emulated }"))).to.deep.equal([
        `${FILE}:11 boards[0].reset.backend: backend emulated needs an emulated board`,
      ]);
    });

    it("puts fus on stm32wb55 only, and dtr-rts only where there is a serial port", () => {
      expect(problems(yaml(...withLine(5, "    capabilities: [fus]")))).to.deep.equal([
        `${FILE}:5 boards[0].capabilities[0]: fus is only on stm32wb55 boards, not stm32l432`,
      ]);
      const dtrRts =
        "    reset: { backend: dtr-rts, sequence: [{ dtr: true }, { waitMs: 50 }, { dtr: false }] }";
      expect(problems(yaml(...LAB, dtrRts))).to.deep.equal([
        `${FILE}:11 boards[0].reset.backend: backend dtr-rts needs the board's serial port (serial: byId or usbSerial)`,
      ]);
      const serial = "    serial: { usbSerial: FT6ZK3QB }";
      expect(() => parseRigFile(yaml(...LAB, serial, dtrRts), FILE)).not.to.throw();
    });

    it("takes stm32flash -i strings for DTR/RTS sequences, refusing what it cannot drive by position", () => {
      const serial = "    serial: { usbSerial: FT6ZK3QB }";
      const boot = '    boot: { backend: dtr-rts, bootloader: "-dtr,rts,,dtr", application: "-rts&-dtr" }';
      const rig = parseRigFile(yaml(...LAB, serial, boot), FILE);
      expect(rig.boards[0]?.boot).to.deep.include({ bootloader: "-dtr,rts,,dtr" });
      const bad = '    reset: { backend: dtr-rts, sequence: "rts,brk" }';
      expect(problems(yaml(...LAB, serial, bad))).to.deep.equal([
        `${FILE}:12 boards[0].reset.sequence: "rts,brk" at character 5: 'brk' is not a modem line: the dtr-rts backend drives rts and dtr only`,
      ]);
      const whole = '    reset: { backend: dtr-rts, sequence: "-dtr,rts:-rts" }';
      expect(problems(yaml(...LAB, serial, whole))[0]).to.include("give stm32flash's entry part here");
    });

    it("refuses a capability listed twice", () => {
      expect(problems(yaml(...withLine(5, "    capabilities: [usb-dfu, usb-dfu]")))).to.deep.equal([
        `${FILE}:5 boards[0].capabilities[1]: capability usb-dfu is listed twice`,
      ]);
    });
  });

  describe("loadRigFile", () => {
    let dir: string;
    before(async () => {
      dir = await mkdtemp(join(tmpdir(), "rig-load-"));
    });
    after(async () => {
      await rm(dir, { recursive: true, force: true });
    });

    it("reads a file and names it as given in errors", async () => {
      const path = join(dir, "lab.yaml");
      await writeFile(path, yaml(...withLine(10, "      channel: 0")));
      const error = await loadRigFile(path).then(
        () => expect.fail("expected a RigFileError"),
        (e: unknown) => e as RigFileError,
      );
      expect(error).to.be.instanceOf(RigFileError);
      expect(error.file).to.equal(path);
      expect(error.problems).to.deep.equal([
        { line: 10, path: "boards[0].power.channel", message: "expected > 0, got number 0" },
      ]);
      expect(() => loadRigFileSync(path)).to.throw(RigFileError, `${path}:10 boards[0].power.channel`);
    });

    it("reports a file it cannot read, keeping the cause", async () => {
      const path = join(dir, "missing.yaml");
      const error = await loadRigFile(path).then(
        () => expect.fail("expected a RigFileError"),
        (e: unknown) => e as RigFileError,
      );
      expect(error.message).to.match(
        /^invalid rig file .*missing\.yaml \(1 problem\):\n.*missing\.yaml \(file\): cannot read: ENOENT/,
      );
      expect((error.cause as NodeJS.ErrnoException).code).to.equal("ENOENT");
    });
  });

  describe("a suite run with HIL_RIG naming a bad file", () => {
    it("says what is wrong with the file, though mocha reports its failed require() of the suite", async function () {
      this.timeout(60_000);
      const dir = await mkdtemp(join(tmpdir(), "rig-bad-"));
      try {
        const path = join(dir, "lab.yaml");
        await writeFile(path, "name: lab\nboards:\n  - id: tkey-lab\n    family: tkey\n");
        const r = await execa(
          join(projectRoot(), "node_modules/.bin/mocha"),
          ["--no-config", "--node-option", "import=tsx", "suites/tkey/full-update.spec.ts"],
          { cwd: projectRoot(), reject: false, timeout: 50_000, env: { HIL_RIG: path } },
        );
        expect(r.exitCode).to.not.equal(0);
        expect(r.stderr).to.include(`hil: invalid rig file ${path} (`);
        expect(r.stderr).to.include(`${path}:3 boards[0]`);
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    });
  });

  describe("resolveRigPath", () => {
    it("takes --rig, then HIL_RIG, then rigs/emulated.yaml in the project", () => {
      expect(resolveRigPath("rigs/a.yaml", { HIL_RIG: "rigs/b.yaml" })).to.equal("rigs/a.yaml");
      expect(resolveRigPath(undefined, { HIL_RIG: "rigs/b.yaml" })).to.equal("rigs/b.yaml");
      expect(resolveRigPath(undefined, {})).to.equal(join(projectRoot(), "rigs", "emulated.yaml"));
      expect(resolveRigPath("", { HIL_RIG: "" })).to.equal(join(projectRoot(), "rigs", "emulated.yaml"));
    });

    it("finds the project root from the module, not the working directory", async () => {
      const pkg = JSON.parse(await readFile(join(projectRoot(), "package.json"), "utf8")) as { name: string };
      expect(pkg.name).to.equal("update-hil");
      expect(loadRigFileSync(resolveRigPath(undefined, {})).name).to.equal("emulated");
    });
  });
});
