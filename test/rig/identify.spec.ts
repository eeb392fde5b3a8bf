/**
 * Identifying boards at the health check: every family of the emulated rack through its own
 * protocol and the real host clients; STM32 over USART as well as USB DFU; and lab boards on
 * real ptys through `hil rigs --check`, one of them answering garbage: that one is quarantined
 * as infrastructure, the others pass.
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import { execa } from "execa";
import { createEmulator } from "../../harness/devices/registry.js";
import type { Stm32Device } from "../../harness/devices/stm32/device.js";
import { emulatedUsbBus } from "../../harness/devices/stm32/dfu/index.js";
import type { TKeyDevice } from "../../harness/devices/tkey/device.js";
import { type EmulatorProcess, startEmulator } from "../../harness/expose/emulator-process.js";
import { InfrastructureError } from "../../harness/lab/errors.js";
import { formatVersion } from "../../harness/protocol/fus/footer.js";
import type { Board } from "../../harness/rig/board.js";
import { type BoardHealth, checkRig, identitiesOf, quarantineOf } from "../../harness/rig/health.js";
import {
  formatIdentity,
  IDENTIFIERS,
  IDENTITY_ENV,
  identifyBoard,
  identityFromEnv,
} from "../../harness/rig/identify.js";
import { identityParameters } from "../../harness/rig/identify-report.js";
import { stm32Identifier } from "../../harness/rig/identify-stm32.js";
import { loadRigFile, parseRigFile } from "../../harness/rig/load.js";
import { buildRig } from "../../harness/rig/rig.js";
import { WallClock } from "../../harness/transport/clock.js";
import { type UsbDevice, WebUsbBus, type WebUsbLike } from "../../harness/transport/usb.js";
import { GarbageDevice } from "./lab-emulators.js";

const ROOT = join(import.meta.dirname, "..", "..");
const HIL = join(ROOT, "bin", "hil.js");

function byBoard(results: readonly BoardHealth[], id: string): BoardHealth {
  const r = results.find((x) => x.board === id);
  expect(r, `health result of ${id}`).to.not.equal(undefined);
  return r!;
}

describe("rig/identify: the emulated rack, every family", function () {
  this.timeout(60_000);
  let boards: readonly Board[];
  let results: BoardHealth[];

  before(async () => {
    const path = join(ROOT, "rigs", "emulated.yaml");
    boards = buildRig(await loadRigFile(path), path).boards;
    results = await checkRig(boards);
  });

  const board = (id: string) => boards.find((b) => b.id === id)!;

  it("identifies every board through its protocol; none is quarantined", () => {
    for (const r of results) {
      expect(r.status, `${r.board}: ${JSON.stringify(r.steps)}`).to.equal("ok");
      const step = r.steps.find((s) => s.name === "identify");
      expect(step?.ok, r.board).to.equal(true);
      expect(step?.detail).to.equal(formatIdentity(r.identified!));
    }
    expect(new Set(results.map((r) => r.board))).to.deep.equal(new Set(boards.map((b) => b.id)));
    expect(quarantineOf(results)).to.deep.equal({});
  });

  it("STM32 over USB DFU: DfuSe descriptor, AN3156 Get Commands, the ROM's USB serial; WB55 adds FUS and stack versions", () => {
    for (const id of ["l432-0", "wb55-0"]) {
      const got = byBoard(results, id).identified!;
      expect(got.bcdDFU, id).to.equal("0x011a");
      expect(got.commands, id).to.equal("00 21 41 92"); // Get Commands, Set Address, Erase, Read Unprotect
      expect(got.serial, id).to.equal(board(id).serial);
      expect(got["dfu-bootloader"], id).to.match(/^\d+\.\d+$/);
    }
    const wb55 = board("wb55-0").emulator as Stm32Device;
    const got = byBoard(results, "wb55-0").identified!;
    expect(got.fus).to.equal(formatVersion(wb55.fus!.nv.fusVersion));
    expect(got.stack).to.equal(formatVersion(wb55.fus!.nv.stack!.version));
    expect(byBoard(results, "l432-0").identified).not.to.have.property("fus");
  });

  it("TKey: NAME0/NAME1 'tk1 mkdf', the firmware version and the UDI the firmware reports", () => {
    const tkey = board("tkey-0").emulator as TKeyDevice;
    const got = byBoard(results, "tkey-0").identified!;
    expect(got.name).to.equal("tk1 mkdf");
    expect(got.firmware).to.equal(String(tkey.profile.version));
    const [w0, w1] = tkey.tkeyIdentity.udiWords;
    expect(got.udi).to.equal(
      `${((w0 >>> 12) & 0xffff).toString(16).padStart(4, "0")}:${((w0 >>> 6) & 0x3f).toString(16).padStart(2, "0")}:${(w0 & 0x3f).toString(16).padStart(2, "0")}:${w1.toString(16).padStart(8, "0")}`,
    );
  });

  it("MCUboot: the SMP image list names the running image (the factory 1.0.0 in slot 0); bootloader info its mode", () => {
    const got = byBoard(results, "nrf52840-0").identified!;
    expect(got.image).to.equal("1.0.0");
    expect(got.slots).to.match(/^#0 1\.0\.0 active confirmed/);
    expect(got.hash).to.match(/^[0-9a-f]{16}$/);
    expect(got["mcuboot mode"]).to.equal("swap-using-move");
    expect(got).to.not.have.property("no-downgrade");
  });

  it("identitiesOf hands every identified board to the run; identityFromEnv reads one back", () => {
    const env = { [IDENTITY_ENV]: JSON.stringify(identitiesOf(results)) };
    expect(identityFromEnv("tkey-0", env)).to.deep.equal(byBoard(results, "tkey-0").identified);
    expect(identityFromEnv("no-such-board", env)).to.equal(undefined);
    expect(identityFromEnv("tkey-0", { [IDENTITY_ENV]: "{not json" })).to.equal(undefined);
  });

  it("report parameters: one per identity field, in reading order; names the suites use already get a prefix", () => {
    expect(identityParameters({ bootloader: "0x91", pid: "0x435", seed: "7" })).to.deep.equal([
      { name: "bootloader", value: "0x91" },
      { name: "pid", value: "0x435" },
      { name: "board.seed", value: "7" },
    ]);
  });
});

describe("rig/identify: MCUboot's mode from SMP bootloader information", function () {
  this.timeout(60_000);
  const nrf = (id: string, options: string) =>
    [
      `  - id: ${id}`,
      "    family: nrf52840",
      "    capabilities: [usart]",
      "    emulated:",
      "      seed: 4",
      "      options:",
      "        key: fixtures/mcuboot/test-only-ecdsa-p256.pub.pem",
      "        image: fixtures/mcuboot/test-only-app-1.0.0.signed.bin",
      ...options
        .split(",")
        .filter(Boolean)
        .map((o) => `        ${o.trim()}`),
    ].join("\n");

  it("an overwrite-only MCUboot with downgrade prevention says so; an app without the command is identified without a mode", async () => {
    const text = [
      "name: modes",
      "boards:",
      nrf("nrf-ow", "mode: overwrite-only, downgradePrevention: true"),
      nrf("nrf-scratch", "mode: swap-using-scratch"),
      nrf("nrf-old", "bootloaderInfo: false"),
      "",
    ].join("\n");
    const rig = buildRig(parseRigFile(text, join(ROOT, "modes.yaml")), join(ROOT, "modes.yaml"));
    const results = await checkRig(rig.boards);
    const ids = Object.fromEntries(results.map((r) => [r.board, r.identified]));
    for (const r of results) expect(r.status, r.board).to.equal("ok");
    expect(ids["nrf-ow"]).to.include({
      image: "1.0.0",
      "mcuboot mode": "overwrite-only",
      "no-downgrade": "yes",
    });
    expect(ids["nrf-scratch"]).to.include({ "mcuboot mode": "swap-using-scratch" });
    expect(ids["nrf-scratch"]).to.not.have.property("no-downgrade");
    expect(ids["nrf-old"]).to.include({ image: "1.0.0" });
    expect(ids["nrf-old"]).to.not.have.any.keys("mcuboot mode", "no-downgrade", "bootloader");
  });
});

describe("rig/identify: STM32 over USART (AN3155)", function () {
  this.timeout(60_000);

  it("Get Version, Get ID and the bootloader ID byte (AN2606: 0x91 on L432, 0xD5 on WB55)", async () => {
    const rig = buildRig(
      parseRigFile(
        [
          "name: usart-only",
          "boards:",
          "  - { id: l432-u, family: stm32l432, capabilities: [usart], emulated: { seed: 2 } }",
          "  - { id: wb55-u, family: stm32wb55, capabilities: [usart, fus], emulated: { seed: 3 } }",
          "",
        ].join("\n"),
        "usart-only.yaml",
      ),
      "usart-only.yaml",
    );
    const results = await checkRig(rig.boards);
    const l432 = byBoard(results, "l432-u");
    expect(l432.status).to.equal("ok");
    expect(l432.identified).to.include({ bootloader: "0x91", pid: "0x435", "usart-protocol": "3.1" });
    const wb55 = byBoard(results, "wb55-u");
    expect(wb55.identified).to.include({ bootloader: "0xd5", pid: "0x495" });
    expect(wb55.identified)
      .to.have.property("fus")
      .that.matches(/^\d+\.\d+\.\d+$/);
  });

  it("a family identifier that throws: an InfrastructureError naming the board and the cause", async () => {
    const [board] = buildRig(
      parseRigFile(
        "name: one\nboards:\n  - { id: nor-x, family: sim-nor, capabilities: [], emulated: {} }\n",
        "one.yaml",
      ),
      "one.yaml",
    ).boards;
    const broken = {
      ...IDENTIFIERS,
      "sim-nor": async () => {
        throw new RangeError("reply byte 0x55 at offset 0");
      },
    };
    const error = await identifyBoard(board!, broken).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).to.be.instanceOf(InfrastructureError);
    expect((error as Error).message).to.equal(
      "board nor-x (sim-nor) did not identify itself: RangeError: reply byte 0x55 at offset 0",
    );
    const [health] = await checkRig([board!], { identifiers: broken });
    expect(health!.status).to.equal("failed");
    expect(quarantineOf([health!])).to.deep.equal({
      "nor-x":
        "identify: board nor-x (sim-nor) did not identify itself: RangeError: reply byte 0x55 at offset 0",
    });
  });
});

describe("rig/identify: hil rigs --check on lab boards over real ptys", function () {
  this.timeout(90_000);
  let tmp: string;
  const emulators: EmulatorProcess[] = [];
  let garbage: GarbageDevice | undefined;

  before(async function () {
    if ((await execa("which", ["socat"], { reject: false })).exitCode !== 0) this.skip();
    tmp = await mkdtemp(join(tmpdir(), "hil-identify-"));
    await mkdir(join(tmp, "by-id"));
    const link = (name: string) => join(tmp, "by-id", name);
    emulators.push(
      await startEmulator("stm32l432kc", link("usb-FTDI_TTL232R_FTGOOD01-if00-port0"), [], { log: false }),
    );
    emulators.push(
      await startEmulator("tkey", link("usb-Tillitis_MTA1-USB-V1_68de5d27-if00"), [], { log: false }),
    );
    emulators.push(
      await startEmulator(
        "nrf52840-mcuboot",
        link("usb-SEGGER_J-Link_000683759358-if00"),
        [
          "--key",
          join(ROOT, "fixtures", "mcuboot", "test-only-ecdsa-p256.pub.pem"),
          "--option",
          `image=${join(ROOT, "fixtures", "mcuboot", "test-only-app-1.0.0.signed.bin")}`,
          "--option",
          "mode=overwrite-only",
        ],
        { log: false },
      ),
    );
    garbage = await new GarbageDevice().serve(link("usb-FTDI_TTL232R_FTJUNK02-if00-port0"));
  });

  after(async () => {
    await Promise.all(emulators.map((e) => e.stop()));
    await garbage?.close();
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  it("identifies the good boards; the one answering garbage is quarantined as infrastructure; exit 1", async () => {
    const power = "power: { backend: command, on: 'true', off: 'true', state: 'echo on' }";
    const lines = join(tmp, "l432-lines.txt"); // what the boot and reset commands were told
    await writeFile(
      join(tmp, "bench.yaml"),
      [
        "name: bench",
        "timeouts: { enumerateMs: 1000, settleMs: 10, powerOffMs: 50, commandMs: 2000 }",
        "boards:",
        "  - id: l432-good",
        "    family: stm32l432",
        "    capabilities: [usart]",
        "    serial: { byId: /dev/serial/by-id/usb-FTDI_TTL232R_FTGOOD01-if00-port0 }",
        `    ${power}`,
        `    boot: { backend: command, bootloader: 'echo boot0-high >> ${lines}', application: 'echo boot0-low >> ${lines}' }`,
        `    reset: { backend: command, command: 'echo reset >> ${lines}' }`,
        "  - id: tkey-good",
        "    family: tkey",
        "    capabilities: []",
        "    serial: { byId: /dev/serial/by-id/usb-Tillitis_MTA1-USB-V1_68de5d27-if00 }",
        `    ${power}`,
        "  - id: nrf-good",
        "    family: nrf52840",
        "    capabilities: []",
        "    serial: { byId: /dev/serial/by-id/usb-SEGGER_J-Link_000683759358-if00 }",
        `    ${power}`,
        "  - id: l432-junk",
        "    family: stm32l432",
        "    capabilities: [usart]",
        "    serial: { usbSerial: FTJUNK02 }",
        `    ${power}`,
        "",
      ].join("\n"),
    );
    const r = await execa("node", [HIL, "rigs", "--rig", join(tmp, "bench.yaml"), "--check"], {
      reject: false,
      env: { HIL_SERIAL_BY_ID_DIR: join(tmp, "by-id"), HIL_LEASE_DIR: join(tmp, "leases"), HIL_RIG: "" },
    });
    expect(r.exitCode, r.stdout + r.stderr).to.equal(1);
    expect(r.stdout).to.match(
      / {2}l432-good \(.*\): ok\n(.*\n)*? {6}ok {3}identify: bootloader 0x91, usart-protocol 3\.1, pid 0x435\n/,
    );
    expect(r.stdout).to.match(
      / {2}tkey-good \(.*\): ok\n(.*\n)*? {6}ok {3}identify: name tk1 mkdf, firmware \d+, udi /,
    );
    expect(r.stdout).to.match(
      / {2}l432-junk \(.*\): FAILED \[infrastructure\]\n {6}ok {3}power: command: on\n {6}ok {3}serial: .*FTJUNK02.*\n {6}FAIL identify: board l432-junk \(stm32l432\) did not identify itself: \w+: /,
    );
    expect(r.stdout).to.match(
      / {2}nrf-good \(.*\): ok\n(.*\n)*? {6}ok {3}identify: image 1\.0\.0, slots #0 1\.0\.0 active confirmed, hash [0-9a-f]{16}, mcuboot mode overwrite-only\n/,
    );
    expect(r.stdout).to.match(/^3 ok, 1 failed \(infrastructure\), 0 skipped$/m);
    // Into the ROM for the check, then back to the application: the product is left running.
    expect((await readFile(lines, "utf8")).trim().split("\n")).to.deep.equal([
      "boot0-high",
      "reset",
      "boot0-low",
      "reset",
    ]);
    // The client began as AN3155 says, with the autobaud byte, and got junk back.
    expect(garbage!.received[0]).to.equal(0x7f);
  });
});

/**
 * The host's WebUSB as the `usb` package presents it, over emulated ROM bootloaders: each
 * device carries node-usb's `bus` and `ports` (port chain) for the hub port it sits on.
 */
class PortedWebUsb extends EventTarget implements WebUsbLike {
  readonly #seen = new WeakMap<object, UsbDevice>();

  constructor(private readonly sockets: { device: Stm32Device; ports: number[] }[]) {
    super();
  }

  async getDevices(): Promise<USBDevice[]> {
    const out: USBDevice[] = [];
    for (const { device, ports } of this.sockets)
      for (const d of await emulatedUsbBus(device).list()) out.push(this.#onPort(d, ports));
    return out;
  }

  #onPort(device: UsbDevice, ports: number[]): UsbDevice {
    let ported = this.#seen.get(device);
    if (!ported) {
      ported = new Proxy(device, {
        get(target, key) {
          if (key === "bus") return "001";
          if (key === "ports") return ports;
          const value = Reflect.get(target, key, target);
          return typeof value === "function" ? value.bind(target) : value;
        },
      });
      this.#seen.set(device, ported);
    }
    return ported;
  }
}

describe("rig/identify: lab boards over USB DFU, told apart by their hub port", function () {
  this.timeout(60_000);
  let tmp: string;
  const savedSysfs = process.env.HIL_SYSFS_USB_DIR;

  before(async () => {
    tmp = await mkdtemp(join(tmpdir(), "hil-identify-usb-"));
    // The health check's locate step reads sysfs: both ROMs are there, 0483:df11 on ports 1-2.3 and 1-2.4.
    for (const [port, serial, devnum] of [
      ["1-2.3", "0435AAAA0003", "7"],
      ["1-2.4", "0435BBBB0004", "8"],
    ] as const) {
      await mkdir(join(tmp, "sys", port), { recursive: true });
      for (const [name, value] of Object.entries({
        idVendor: "0483",
        idProduct: "df11",
        serial,
        busnum: "1",
        devnum,
      }))
        await writeFile(join(tmp, "sys", port, name), `${value}\n`);
    }
    process.env.HIL_SYSFS_USB_DIR = join(tmp, "sys");
  });
  after(async () => {
    if (savedSysfs === undefined) delete process.env.HIL_SYSFS_USB_DIR;
    else process.env.HIL_SYSFS_USB_DIR = savedSysfs;
    await rm(tmp, { recursive: true, force: true });
  });

  it("each board is identified by the ROM on its own port, whatever order the bus lists them in", async () => {
    const clock = new WallClock();
    const rom = (serial: string) => createEmulator("stm32l432", { clock, seed: 1, serial }) as Stm32Device;
    const on3 = rom("0435AAAA0003");
    const on4 = rom("0435BBBB0004");
    await Promise.all([on3.power.on(), on4.power.on()]);
    // Listed port 4 first: a filter without the port path would take it for both boards.
    const webusb = new PortedWebUsb([
      { device: on4, ports: [2, 4] },
      { device: on3, ports: [2, 3] },
    ]);
    const power = "power: { backend: command, on: 'true', off: 'true', state: 'echo on' }";
    const file = parseRigFile(
      [
        "name: dfu-bench",
        "timeouts: { enumerateMs: 3000, settleMs: 10, powerOffMs: 50, commandMs: 2000 }",
        "boards:",
        `  - { id: l432-port3, family: stm32l432, capabilities: [usb-dfu], usb: { vid: "0483", pid: "df11", port: 1-2.3 }, ${power} }`,
        `  - { id: l432-port4, family: stm32l432, capabilities: [usb-dfu], usb: { vid: "0483", pid: "df11", port: 1-2.4 }, ${power} }`,
        "",
      ].join("\n"),
      "dfu-bench.yaml",
    );
    const identifiers = {
      ...IDENTIFIERS,
      stm32l432: stm32Identifier({ labUsb: (board) => new WebUsbBus({ webusb, clock: board.clock }) }),
    };
    const results = await checkRig(buildRig(file, "dfu-bench.yaml").boards, {
      identifiers,
      lease: { dir: join(tmp, "leases") },
    });
    expect(byBoard(results, "l432-port3").status, JSON.stringify(results)).to.equal("ok");
    expect(byBoard(results, "l432-port3").identified).to.include({
      serial: "0435AAAA0003",
      bcdDFU: "0x011a",
    });
    expect(byBoard(results, "l432-port4").identified).to.include({
      serial: "0435BBBB0004",
      bcdDFU: "0x011a",
    });
    await Promise.all([on3.power.off(), on4.power.off()]);
  });
});

describe("rig/identify: a lab STM32 without boot control, as strapped", () => {
  let tmp: string;
  const saved = process.env.HIL_SERIAL_BY_ID_DIR;
  before(async () => {
    tmp = await mkdtemp(join(tmpdir(), "hil-strapped-"));
    await mkdir(join(tmp, "by-id"));
    process.env.HIL_SERIAL_BY_ID_DIR = join(tmp, "by-id");
  });
  after(async () => {
    if (saved === undefined) delete process.env.HIL_SERIAL_BY_ID_DIR;
    else process.env.HIL_SERIAL_BY_ID_DIR = saved;
    await rm(tmp, { recursive: true, force: true });
  });

  const board = (boot: string) =>
    buildRig(
      parseRigFile(
        [
          "name: strapped",
          "boards:",
          "  - id: l432-strapped",
          "    family: stm32l432",
          "    capabilities: [usart]",
          "    serial: { byId: /dev/serial/by-id/usb-FTDI_TTL232R-3V3_FT4A2B9C-if00-port0 }",
          `    power: { backend: command, on: "echo on >> ${tmp}/power.log", off: "echo off >> ${tmp}/power.log" }`,
          ...(boot ? [`    boot: ${boot}`] : []),
          "    timeouts: { enumerateMs: 100, settleMs: 10, powerOffMs: 10 }",
          "",
        ].join("\n"),
        "strapped.yaml",
      ),
      "strapped.yaml",
    ).boards[0]!;
  const powerLog = () => readFile(join(tmp, "power.log"), "utf8").catch(() => "");

  it("BOOT0 strapped high (the default): power-cycled into its ROM before its port is looked for", async () => {
    for (const boot of ["", "{ backend: none }", "{ backend: none, startsIn: bootloader }"]) {
      await rm(join(tmp, "power.log"), { force: true });
      const b = board(boot);
      expect(b.startsIn, boot).to.equal("bootloader");
      const error = await stm32Identifier()(b).catch((e: Error) => e);
      // The port is absent here: the cycle came first, then the look for the port.
      expect(error, boot).to.be.instanceOf(InfrastructureError);
      expect((error as Error).message).to.match(/did not appear within 100 ms/);
      expect(await powerLog(), boot).to.equal("off\non\n");
    }
  });

  it("strapped to its application (boot.startsIn: application): not checked, with the reason, power left alone", async () => {
    await rm(join(tmp, "power.log"), { force: true });
    const error = await stm32Identifier()(board("{ backend: none, startsIn: application }")).catch(
      (e: Error) => e,
    );
    expect(error).to.have.property("name", "SkipScenario");
    expect((error as Error).message).to.equal(
      "board l432-strapped has no boot control and starts its application (boot.startsIn: application): its ROM cannot be reached",
    );
    expect(await powerLog()).to.equal("");
  });
});
