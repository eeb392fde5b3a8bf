/**
 * Locating by identity against stand-in roots: a by-id directory of links to real ptys
 * (socat) and a sysfs-shaped directory of USB devices, both moved in with the HIL_*_DIR
 * variables. Re-enumeration is a new device number at the same port.
 */
import { spawnSync } from "node:child_process";
import { mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import { InfrastructureError } from "../../harness/lab/errors.js";
import {
  BoardLocator,
  findSerialPort,
  findUsbDevice,
  usbFilterOf,
  waitForSerialPort,
  waitForUsbDevice,
} from "../../harness/lab/locate.js";
import { WallClock } from "../../harness/transport/clock.js";
import { openSerialPort } from "../../harness/transport/serial-port-stream.js";
import { makeByIdDir, ScpiSupply } from "../rig/lab-emulators.js";
import { rejectionOf as rejection } from "../transport/helpers.js";

const clock = new WallClock();

async function addUsb(
  root: string,
  port: string,
  a: { vid: string; pid: string; serial?: string; devnum: number },
) {
  const dir = join(root, port);
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, "idVendor"), `${a.vid}\n`);
  await writeFile(join(dir, "idProduct"), `${a.pid}\n`);
  if (a.serial) await writeFile(join(dir, "serial"), `${a.serial}\n`);
  await writeFile(join(dir, "busnum"), `${port.split("-")[0]}\n`);
  await writeFile(join(dir, "devnum"), `${a.devnum}\n`);
  await writeFile(join(dir, "product"), "STM32  BOOTLOADER\n");
}

describe("lab/locate", function () {
  this.timeout(20_000);
  let sys: string;
  let byId: Awaited<ReturnType<typeof makeByIdDir>>;
  let env: NodeJS.ProcessEnv;
  before(async () => {
    sys = await mkdtemp(join(tmpdir(), "hil-sysfs-"));
    byId = await makeByIdDir();
    env = { HIL_SYSFS_USB_DIR: sys, HIL_SERIAL_BY_ID_DIR: byId.dir };
  });
  after(async () => {
    await rm(sys, { recursive: true, force: true });
    await byId.remove();
  });

  it("finds a serial port by by-id name or USB serial number; a dangling link is not there", async () => {
    await symlink("/dev/null", join(byId.dir, "usb-FTDI_TTL232R-3V3_FT9XL1ZA-if00-port0"));
    await symlink("/dev/no-such-tty", join(byId.dir, "usb-1a86_USB_Serial_GONE-if00-port0"));
    expect(
      await findSerialPort({ byId: "/dev/serial/by-id/usb-FTDI_TTL232R-3V3_FT9XL1ZA-if00-port0" }, env),
    ).to.equal(join(byId.dir, "usb-FTDI_TTL232R-3V3_FT9XL1ZA-if00-port0"));
    expect(await findSerialPort({ usbSerial: "FT9XL1ZA" }, env)).to.equal(
      join(byId.dir, "usb-FTDI_TTL232R-3V3_FT9XL1ZA-if00-port0"),
    );
    expect(await findSerialPort({ usbSerial: "GONE" }, env)).to.equal(undefined);
  });

  it("waits for a port that appears later (a real pty), then it opens", async function () {
    if (spawnSync("which", ["socat"]).status !== 0) this.skip();
    const link = join(byId.dir, "usb-STMicroelectronics_STM32_STLink_0668FF-if02");
    let psu: ScpiSupply | undefined;
    const later = clock.sleep(300).then(async () => {
      psu = await new ScpiSupply(1).serve(link);
    });
    const started = clock.now();
    const path = await waitForSerialPort(
      "board l432",
      { usbSerial: "0668FF" },
      { clock, timeoutMs: 5000, settleMs: 100, env },
    );
    expect(clock.now() - started).to.be.at.least(300);
    expect(path).to.equal(link);
    await later;
    const stream = await openSerialPort(path, { baudRate: 115200 });
    await stream.write(Buffer.from("*IDN?\n"));
    expect(Buffer.from(await stream.read(5, { timeoutMs: 2000 })).toString()).to.equal("EMULA");
    await stream.close();
    await psu!.close();
  });

  it("a link that is listed but dangles is said to dangle, with where it points, not that it did not appear", async () => {
    // Left by the first test: usb-1a86_USB_Serial_GONE-if00-port0 -> /dev/no-such-tty.
    for (const identity of [
      { byId: "/dev/serial/by-id/usb-1a86_USB_Serial_GONE-if00-port0" },
      { usbSerial: "GONE" },
    ]) {
      const error = await rejection(waitForSerialPort("board l432", identity, { clock, timeoutMs: 50, env }));
      expect(error).to.be.instanceOf(InfrastructureError);
      expect(error.message).to.equal(
        `board l432: ${join(byId.dir, "usb-1a86_USB_Serial_GONE-if00-port0")} is a dangling link to /dev/no-such-tty, ` +
          `which does not exist (waited 50 ms); ${byId.dir} has usb-1a86_USB_Serial_GONE-if00-port0, usb-FTDI_TTL232R-3V3_FT9XL1ZA-if00-port0`,
      );
    }
    // A relative target, as udev writes them, is shown resolved against the by-id directory.
    await symlink("../no-such-ttyACM7", join(byId.dir, "usb-STM_VCP_REL-if00"));
    const error = await rejection(
      waitForSerialPort("board l432", { usbSerial: "REL" }, { clock, timeoutMs: 50, env }),
    );
    expect(error.message).to.include(`is a dangling link to ${join(byId.dir, "..", "no-such-ttyACM7")},`);
    await rm(join(byId.dir, "usb-STM_VCP_REL-if00"));
  });

  it("a port that never appears is an infrastructure error listing what by-id has", async () => {
    const error = await rejection(
      waitForSerialPort("board wb55", { usbSerial: "FT6ZK3QB" }, { clock, timeoutMs: 200, env }),
    );
    expect(error).to.be.instanceOf(InfrastructureError);
    expect(error.message).to.match(
      /^board wb55: the serial port of USB serial FT6ZK3QB did not appear within 200 ms; .* has .*usb-FTDI_TTL232R-3V3_FT9XL1ZA-if00-port0/,
    );
  });

  it("finds a USB device by VID/PID/serial or port path; two matches are ambiguous", async () => {
    await addUsb(sys, "1-1.3", { vid: "0483", pid: "df11", serial: "2079327A5543", devnum: 7 });
    await addUsb(sys, "3-2.1", { vid: "0483", pid: "df11", serial: "206B37864E48", devnum: 12 });
    await mkdir(join(sys, "1-1.3:1.0"), { recursive: true }); // an interface, not a device
    await mkdir(join(sys, "usb1"), { recursive: true }); // a root hub
    expect((await findUsbDevice({ vid: 0x0483, pid: 0xdf11, serial: "206B37864E48" }, env))?.port).to.equal(
      "3-2.1",
    );
    expect((await findUsbDevice({ vid: 0x0483, pid: 0xdf11, port: "1-1.3" }, env))?.serial).to.equal(
      "2079327A5543",
    );
    const error = await rejection(findUsbDevice({ vid: 0x0483, pid: 0xdf11 }, env));
    expect(error).to.be.instanceOf(InfrastructureError);
    expect(error.message).to.include("ambiguous");
  });

  it("after a reset waits for a new enumeration, never the stale one; says what was on the bus when it does not come", async () => {
    const identity = { vid: 0x0483, pid: 0xdf11, serial: "2079327A5543", port: "1-1.3" };
    const before = (await findUsbDevice(identity, env))!;
    const renumerate = clock
      .sleep(200)
      .then(() => addUsb(sys, "1-1.3", { vid: "0483", pid: "df11", serial: "2079327A5543", devnum: 8 }));
    const after = await waitForUsbDevice("board l432", identity, {
      clock,
      timeoutMs: 3000,
      notSame: before,
      env,
    });
    await renumerate;
    expect(after.devnum).to.equal(8);
    const error = await rejection(
      waitForUsbDevice("board l432", identity, { clock, timeoutMs: 200, notSame: after, env }),
    );
    expect(error).to.be.instanceOf(InfrastructureError);
    expect(error.message).to.match(
      /^board l432: USB 0483:df11 serial 2079327A5543 at port 1-1.3 did not re-enumerate within 200 ms; on the bus: 1-1.3 0483:df11 serial 2079327A5543 \(STM32 {2}BOOTLOADER\); 3-2.1/,
    );
  });

  it("a board's locator uses its identity and timeouts", async () => {
    const locator = new BoardLocator(
      {
        id: "wb55-nucleo",
        usb: { vid: 0x0483, pid: 0xdf11, serial: "206B37864E48" },
        serial: { usbSerial: "FT9XL1ZA" },
        timeouts: { enumerateMs: 300, settleMs: 10 },
      },
      clock,
      env,
    );
    expect((await locator.usbDevice()).port).to.equal("3-2.1");
    expect(await locator.serialPort()).to.match(/FT9XL1ZA/);
    const present = await locator.present();
    expect(present.usb?.port).to.equal("3-2.1");
  });

  it("a board's WebUSB filter carries its port path into every personality, its serial only into its own VID:PID", () => {
    const timeouts = { enumerateMs: 300, settleMs: 10 };
    const app = new BoardLocator(
      {
        id: "canokey",
        usb: { vid: 0x20a0, pid: 0x42d4, serial: "CK-0001", port: "1-2.3" },
        serial: undefined,
        timeouts,
      },
      clock,
      env,
    );
    expect(app.usbFilter()).to.deep.equal({
      vendorId: 0x20a0,
      productId: 0x42d4,
      serialNumber: "CK-0001",
      portPath: "1-2.3",
    });
    // The ROM after BOOT0 reports its own serial: only the physical port pins it down.
    expect(app.usbFilter({ vendorId: 0x0483, productId: 0xdf11 })).to.deep.equal({
      vendorId: 0x0483,
      productId: 0xdf11,
      portPath: "1-2.3",
    });
    const serialOnly = new BoardLocator(
      { id: "uart-only", usb: undefined, serial: { usbSerial: "FT1" }, timeouts },
      clock,
      env,
    );
    expect(() => serialOnly.usbFilter()).to.throw(
      InfrastructureError,
      "board uart-only: no USB identity in the rig file",
    );
    expect(serialOnly.usbFilter({ vendorId: 0x0483, productId: 0xdf11 })).to.deep.equal({
      vendorId: 0x0483,
      productId: 0xdf11,
    });
  });

  it("suites find a lab board's ROM through its locator (port path) and an emulated one by its serial", () => {
    const rom = { vendorId: 0x0483, productId: 0xdf11 };
    const lab = new BoardLocator(
      {
        id: "l432-a",
        usb: { vid: 0x0483, pid: 0xdf11, serial: undefined, port: "1-4" },
        serial: undefined,
        timeouts: { enumerateMs: 300, settleMs: 10 },
      },
      clock,
      env,
    );
    expect(usbFilterOf({ locator: lab, serial: "ignored" }, rom)).to.deep.equal({ ...rom, portPath: "1-4" });
    expect(usbFilterOf({ serial: "2051354D5748" }, rom)).to.deep.equal({
      ...rom,
      serialNumber: "2051354D5748",
    });
    expect(usbFilterOf({}, rom)).to.deep.equal(rom);
  });
});
