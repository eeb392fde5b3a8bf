import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import { execa } from "execa";
import { startUsbipEmulator, type UsbipEmulatorProcess } from "../../harness/expose/usbip-process.js";

const HIL = join(import.meta.dirname, "..", "..", "bin", "hil.js");

/** A loopback port nothing listens on (bound, then closed). */
async function deadPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return typeof address === "object" && address ? address.port : 0;
}

describe("hil rigs --check through USB/IP (hil emulate stm32l432 --usbip as the rack host)", function () {
  this.timeout(120_000);
  let emu: UsbipEmulatorProcess | undefined;
  let tmp: string;
  before(async () => {
    emu = await startUsbipEmulator("stm32l432", [], { log: false });
    tmp = await mkdtemp(join(tmpdir(), "hil-usbip-health-"));
  });
  after(async () => {
    await emu?.stop();
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  it("a board behind a USB/IP server is found by busid and identified over DFU; a server that does not answer is infrastructure, host and port named", async () => {
    const dead = await deadPort();
    const rig = join(tmp, "remote.yaml");
    const power = `power: { backend: command, off: "kill -USR1 ${emu!.pid}", on: "kill -USR2 ${emu!.pid}", state: "echo on" }`;
    await writeFile(
      rig,
      [
        "name: remote",
        "boards:",
        "  - id: l432-remote",
        "    family: stm32l432",
        "    capabilities: [usb-dfu]",
        `    usb: { usbip: "127.0.0.1:${emu!.port}", busid: "${emu!.busid}" }`,
        `    ${power}`,
        "    timeouts: { enumerateMs: 5000, settleMs: 20, powerOffMs: 200, commandMs: 2000 }",
        "  - id: l432-unreachable",
        "    family: stm32l432",
        "    capabilities: [usb-dfu]",
        `    usb: { usbip: "127.0.0.1:${dead}", busid: "1-1" }`,
        '    power: { backend: command, off: "true", on: "true", state: "echo on" }',
        "    timeouts: { enumerateMs: 1000, settleMs: 20, powerOffMs: 100, commandMs: 2000 }",
        "",
      ].join("\n"),
    );
    const r = await execa("node", [HIL, "rigs", "--rig", rig, "--check"], {
      reject: false,
      timeout: 90_000,
      env: { HIL_LEASE_DIR: join(tmp, "leases"), HIL_RIG: "" },
    });
    const out = r.stdout;
    expect(out, r.stderr).to.include(
      `  l432-remote      stm32l432  usbip 127.0.0.1:${emu!.port} busid 1-1; power command`,
    );
    expect(out).to.match(
      new RegExp(
        ` {2}l432-remote \\(usbip 127\\.0\\.0\\.1:${emu!.port} busid 1-1\\): ok\\n {6}ok {3}power: command: on\\n {6}ok {3}usbip: 127\\.0\\.0\\.1:${emu!.port} busid 1-1: 0483:df11 exported\\n {6}ok {3}identify: dfu-bootloader 2\\.2, bcdDFU 0x011a, commands 00 21 41 92, serial [0-9A-F]{12}\\n`,
      ),
    );
    expect(out).to.match(
      new RegExp(
        ` {2}l432-unreachable \\(.*\\): FAILED \\[infrastructure\\]\\n {6}ok {3}power: command: on\\n {6}FAIL usbip: USB/IP server 127\\.0\\.0\\.1:${dead} of board l432-unreachable: USB/IP server 127\\.0\\.0\\.1:${dead} does not answer: connect ECONNREFUSED .*\\(${rig.replace(/[.]/g, "\\.")}:12 boards\\[1\\]\\.usb\\.usbip\\)`,
      ),
    );
    expect(out).to.match(/^1 ok, 1 failed \(infrastructure\), 0 skipped$/m);
    expect(r.exitCode).to.equal(1);
  });
});
