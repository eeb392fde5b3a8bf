/**
 * The FUS suites on a lab rig: the board is `hil emulate stm32wb55` behind a real pty, found
 * by its /dev/serial/by-id name (a stand-in directory), reached through the ROM's USART
 * bootloader and its FUS commands, power-cycled through the rig's `command` power backend
 * (SIGUSR1 / SIGUSR2 to the emulator). The same scenarios run as on the emulated rack; those
 * needing the emulator's white-box view, or the USB link this rig does not give, skip with
 * the reason.
 */
import { join } from "node:path";
import { expect } from "chai";
import { startEmulator } from "../../harness/expose/emulator-process.js";
import { byIdDirHooks } from "./lab-emulators.js";
import { portsLeftOpen, runSuitesOnRig } from "./lab-suite-run.js";

const PORT_NAME = "usb-STMicroelectronics_STLINK-V3_0044003B3438510A37323630-if02";

describe("suites/stm32-fus on a lab rig (hil emulate stm32wb55 on a pty)", function () {
  this.timeout(300_000);
  const byId = byIdDirHooks();

  it("the same scenarios pass through the lab path; the emulator-only ones skip with the reason", async () => {
    const emulator = await startEmulator("stm32wb55", join(byId.dir, PORT_NAME), [], { log: false });
    try {
      const result = await runSuitesOnRig({
        rigYaml: [
          "name: pty-lab",
          "boards:",
          "  - id: wb55-pty",
          "    family: stm32wb55",
          "    capabilities: [usart, fus, power-cut, sacrificial]",
          `    serial: { byId: /dev/serial/by-id/${PORT_NAME}, baudRate: 115200 }`,
          `    power: { backend: command, cutsPower: true, off: "kill -USR1 ${emulator.pid}", on: "kill -USR2 ${emulator.pid}" }`,
          "    timeouts: { enumerateMs: 5000, settleMs: 20, powerOffMs: 300 }",
        ],
        suites: "suites/stm32-fus/*.spec.ts",
        env: { HIL_SERIAL_BY_ID_DIR: byId.dir },
        timeoutMs: 280_000,
        skipReasons: true,
      });
      expect(result.failures, result.stderr).to.deep.equal([]);
      expect(portsLeftOpen(result.stderr), "every test closes the ports it opened").to.deep.equal([]);
      const short = (t: string) => t.replace(/^stm32-fus: (.*?) wb55-pty \(stm32wb55\) /, "$1: ");
      expect(result.passes.map(short)).to.deep.equal([
        ...[
          "Get lists special read 0x50 and special write 0x51 beside the AN3155 commands; 0x50/0xAF is ACKed",
          "special read 0x50 with FUS_GET_STATE 0x54: data packet [0x00, state, error], status packet [0x00]",
          "only the mapped opcodes: START_WS through special read 0x50 and GET_STATE through special write 0x51 are NACKed",
          "special write 0x51 with FUS_START_WS 0x5A: status packet [0x00], then the wireless stack runs",
          "special write 0x51 with FUS_FW_DELETE 0x52: [0x00], stack deleted; START_WS then fails with [0x01, state, error]",
        ].map((t) => `bootloader FUS extension (AN5185 §7): USART special read/write (Tables 15–17) ${t}`),
        ...[
          "FW_UPGRADE with no image in flash: IMG_NOT_FOUND, then idle",
          "corrupted image: IMG_CORRUPT and the image erased by FUS",
          "Image signature not found (missing): IMG_NOT_AUTHENTIC, idle, flash unchanged",
          "Image signature not found (corrupted body): IMG_NOT_AUTHENTIC, idle, flash unchanged",
          "lock refused without consent (sacrificial board AND explicit flag)",
        ].map((t) => `error injection usart: ${t}`),
        "FUS state values (AN5185 Table 10): usart: GET_STATE along activation, delete, install and FUS upgrade answers Table 10 values only",
      ]);
      // Every skipped test says why; the fixture-image and factory-state ones say so.
      const reasons = new Map(result.skipReasons ?? []);
      for (const pending of result.pending)
        expect(
          [...reasons.keys()].some((title) => pending.endsWith(title)),
          `a reason for: ${pending}`,
        ).to.equal(true);
      const said = (text: string) => [...reasons.values()].filter((r) => r?.includes(text)).length;
      expect(said("needs the factory FUS state and images its FUS accepts"), "fixture-image tests").to.equal(
        10,
      );
      expect(said("needs the wireless stack running; no stack is installed"), "activation tests").to.equal(2);
      expect(said("the run was not started with --allow-irreversible"), "the auth-key lock").to.equal(1);
    } finally {
      await emulator.stop();
    }
  });
});
