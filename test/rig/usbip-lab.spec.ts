/**
 * DFU suites on a lab board whose USB is on another host: `hil emulate … --usbip` plays the
 * rack host's usbipd, the rig file says `usb: { usbip, busid }`, and the harness imports the
 * device in user space (transport/usbip-device.ts), no vhci-hcd. Power goes through the
 * rig's `command` backend as signals to the emulator.
 */
import { expect } from "chai";
import { DfuError } from "../../harness/clients/dfu/index.js";
import { startUsbipEmulator, type UsbipEmulatorProcess } from "../../harness/expose/usbip-process.js";
import { categoryOfError } from "../../harness/report/failure-categories.mjs";
import { parseRigFile } from "../../harness/rig/load.js";
import { buildRig } from "../../harness/rig/rig.js";
import { labUsbBus } from "../../harness/rig/usb-link.js";
import { asFile, connect, romFilter } from "../../suites/stm32-dfu/fixture.js";
import { runSuitesOnRig } from "./lab-suite-run.js";

function rigLines(family: string, capabilities: string, emu: UsbipEmulatorProcess): string[] {
  return [
    "name: usbip-lab",
    "boards:",
    `  - id: ${family === "stm32l432" ? "l432" : "wb55"}-usbip`,
    `    family: ${family}`,
    `    capabilities: [${capabilities}]`,
    `    usb: { usbip: "${emu.host}:${emu.port}", busid: "${emu.busid}" }`,
    `    power: { backend: command, cutsPower: true, off: "kill -USR1 ${emu.pid}", on: "kill -USR2 ${emu.pid}" }`,
    "    timeouts: { enumerateMs: 5000, settleMs: 20, powerOffMs: 300 }",
  ];
}

describe("suites/stm32-dfu on a lab rig whose USB is imported over USB/IP (hil emulate stm32l432 --usbip)", function () {
  this.timeout(300_000);

  it("every lab-path scenario passes, leave and re-enumeration included; the emulator-only ones skip with the reason", async () => {
    const emu = await startUsbipEmulator("stm32l432", [], { log: false });
    try {
      const result = await runSuitesOnRig({
        rigYaml: rigLines("stm32l432", "usb-dfu, power-cut, sacrificial", emu),
        suites: "suites/stm32-dfu/*.spec.ts",
        timeoutMs: 280_000,
        skipReasons: true,
      });
      expect(result.failures, result.stderr).to.deep.equal([]);
      const passes = result.passes.map((t) =>
        t.replace(/^stm32-dfu: ([\w .()-]+?) l432-usbip \(stm32l432\) /, "$1: "),
      );
      // The whole DFU 1.1 state table, two of its rows leaving DFU (the device re-enumerates).
      expect(passes.filter((t) => t.startsWith("conformance to the DFU 1.1 state table: "))).to.have.length(
        46,
      );
      expect(passes.filter((t) => t.includes("leaves DFU (USB disconnect)"))).to.have.length(3);
      expect(passes.filter((t) => !t.startsWith("conformance"))).to.deep.equal([
        "error injection: a write outside the memory map ends in errTARGET and leaves the flash unchanged",
        "error injection: an illegal request stalls, enters dfuERROR with errSTALLEDPKT, and CLRSTATUS recovers",
        "error injection: a corrupt .dfu is refused before any transfer, naming the offset",
        "full update: updates from a .bin file and the application runs",
        "full update: updates from a .hex file and the application runs",
        "full update: updates from a .dfu file and the application runs",
        "full update: updates a 256 KB image in one download, reads it back and the application runs",
        "power interruption during an update: a cut after any DNLOAD block recovers with a second full update",
      ]);
      expect(result.pending).to.deep.equal([
        "stm32-dfu: error injection skipped: rig 'usbip-lab' has no board of family stm32wb55",
        "stm32-dfu: error injection l432-usbip (stm32l432) RDP level 1: upload refused with errVENDOR; Read Unprotect mass-erases and the board comes back unprotected",
        "stm32-dfu: full update l432-usbip (stm32l432) BOOT0 selects between the running application and the bootloader",
        "stm32-dfu: power interruption during an update skipped: rig 'usbip-lab': board of family stm32l432 or stm32wb55 (l432-usbip) lacks capability flash-faults",
        "stm32-dfu: every DFU 1.1 status a device may report skipped: rig 'usbip-lab': board of family stm32l432 or stm32wb55 (l432-usbip) lacks capabilities flash-faults, inspect",
      ]);
      const why = (title: string) => result.skipReasons!.get(title) ?? "";
      expect(
        why(
          "RDP level 1: upload refused with errVENDOR; Read Unprotect mass-erases and the board comes back unprotected",
        ),
      ).to.contain("RDP level 1 is set through the chip's option bytes");
      expect(why("BOOT0 selects between the running application and the bootloader")).to.contain(
        "l432-usbip: no boot control (rig file boot.backend none)",
      );
    } finally {
      await emu.stop();
    }
  });

  it("suites/stm32-fus through the FUS-over-DFU link (hil emulate stm32wb55 --usbip): FUS resets re-import by busid; factory-state tests skip with the reason", async () => {
    const emu = await startUsbipEmulator("stm32wb55", [], { log: false });
    try {
      const result = await runSuitesOnRig({
        rigYaml: rigLines("stm32wb55", "usb-dfu, fus, power-cut, sacrificial", emu),
        suites: "suites/stm32-fus/*.spec.ts",
        timeoutMs: 280_000,
        skipReasons: true,
      });
      expect(result.failures, result.stderr).to.deep.equal([]);
      const passes = result.passes.map((t) =>
        t.replace(/^stm32-fus: (.+?) wb55-usbip \(stm32wb55\) /, "$1: "),
      );
      expect(passes).to.deep.equal([
        "bootloader FUS extension (AN5185 §7): USB DFU download/upload (Tables 18–19) UPLOAD of 2 bytes at 0xFFFF0054 is FUS_GET_STATE: [FUS state, error code]",
        "bootloader FUS extension (AN5185 §7): USB DFU download/upload (Tables 18–19) DNLOAD wBlockNum 0 [0x5A] is FUS_START_WS: dfuDNBUSY, dfuDNLOAD-IDLE, then the stack runs",
        "bootloader FUS extension (AN5185 §7): USB DFU download/upload (Tables 18–19) DNLOAD wBlockNum 0 [0x52] is FUS_FW_DELETE: accepted, stack deleted; [0x5A] then ends in dfuERROR",
        "bootloader FUS extension (AN5185 §7): USB DFU download/upload (Tables 18–19) DNLOAD [0x58 key] then UPLOAD 1 byte at 0xFFFF0059: FUS_STORE_USR_KEY in two steps, the key index",
        "error injection usb-dfu: FW_UPGRADE with no image in flash: IMG_NOT_FOUND, then idle",
        "error injection usb-dfu: corrupted image: IMG_CORRUPT and the image erased by FUS",
        "error injection usb-dfu: Image signature not found (missing): IMG_NOT_AUTHENTIC, idle, flash unchanged",
        "error injection usb-dfu: Image signature not found (corrupted body): IMG_NOT_AUTHENTIC, idle, flash unchanged",
        "error injection usb-dfu: lock refused without consent (sacrificial board AND explicit flag)",
        "FUS state values (AN5185 Table 10): usb-dfu: GET_STATE along activation, delete, install and FUS upgrade answers Table 10 values only",
      ]);
      const factory = [...result.skipReasons!.entries()].filter(([, why]) =>
        why?.includes("factory FUS state"),
      );
      expect(factory.map(([name]) => name)).to.include.members([
        "deletes the stack (secure area back to the FUS), then a first install runs the stack",
        "a power cut after the first FUS reset of an install: FUS recovers and a repeated install succeeds",
      ]);
      // The activation tests start from a running stack, which an earlier test deleted.
      expect(
        result.skipReasons!.get(
          "activates FUS from a running stack: NOT_RUNNING, then the second GET_STATE reboots into FUS",
        ),
      ).to.include("needs the wireless stack running");
    } finally {
      await emu.stop();
    }
  });

  it("the emulator killed mid-download: the download ends as infrastructure, the next look names host and port, nothing hangs", async () => {
    const emu = await startUsbipEmulator("stm32l432", [], { log: false });
    try {
      const rig = buildRig(
        parseRigFile(`${rigLines("stm32l432", "usb-dfu", emu).join("\n")}\n`, "usbip-lab.yaml"),
        "usbip-lab.yaml",
      );
      const board = rig.boards[0]!;
      const client = await connect(board);
      let blocks = 0;
      client.events.on("progress", (p) => {
        if (p.phase === "download" && ++blocks === 4) process.kill(emu.pid, "SIGKILL");
      });
      const image = Uint8Array.from({ length: 128 * 1024 }, (_, i) => (i * 13) & 0xff);
      const failed = await client.download(asFile("bin", 0x0800_0000, image)).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(failed).to.be.instanceOf(DfuError);
      expect((failed as DfuError).kind, (failed as Error).message).to.equal("disconnected");
      expect(categoryOfError(failed)).to.equal("infrastructure");
      const again = await labUsbBus(board)
        .waitFor(romFilter(board), { timeoutMs: 2000, clock: board.clock })
        .then(
          () => undefined,
          (e: unknown) => e,
        );
      // Refused once the process is gone; in the moment it dies, accepted and then closed.
      expect((again as Error).message).to.match(
        new RegExp(
          `USB/IP server ${emu.host}:${emu.port} does not answer|the server ${emu.host}:${emu.port} closed`,
        ),
      );
      expect(categoryOfError(again)).to.equal("infrastructure");
    } finally {
      await emu.stop();
    }
  });
});
