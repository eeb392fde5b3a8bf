import { join } from "node:path";
import { expect } from "chai";
import { startEmulator } from "../../harness/expose/emulator-process.js";
import { byIdDirHooks } from "./lab-emulators.js";
import { portsLeftOpen, runSuitesOnRig } from "./lab-suite-run.js";

const PORT_NAME = "usb-STMicroelectronics_STLINK-V3_0670FF3631-if02";

describe("suites/stm32-usart on a lab rig (hil emulate stm32l432kc on a pty)", function () {
  this.timeout(240_000);
  const byId = byIdDirHooks();

  it("the same scenarios pass through the lab path; the emulator-only ones skip with the reason", async () => {
    const emulator = await startEmulator("stm32l432kc", join(byId.dir, PORT_NAME), [], { log: false });
    try {
      const result = await runSuitesOnRig({
        rigYaml: [
          "name: pty-lab",
          "boards:",
          "  - id: l432-pty",
          "    family: stm32l432",
          "    capabilities: [usart, power-cut, sacrificial]",
          `    serial: { byId: /dev/serial/by-id/${PORT_NAME}, baudRate: 115200 }`,
          `    power: { backend: command, cutsPower: true, off: "kill -USR1 ${emulator.pid}", on: "kill -USR2 ${emulator.pid}" }`,
          "    timeouts: { enumerateMs: 5000, settleMs: 20, powerOffMs: 300 }",
        ],
        suites: "suites/stm32-usart/*.spec.ts",
        env: { HIL_SERIAL_BY_ID_DIR: byId.dir },
      });
      expect(result.failures, result.stderr).to.deep.equal([]);
      expect(portsLeftOpen(result.stderr), "every test closes the ports it opened").to.deep.equal([]);
      expect(
        result.passes.map((t) => t.replace(/^stm32-usart: ([\w ]+) l432-pty \(stm32l432\) /, "$1: ")),
      ).to.deep.equal([
        "command set: Get lists one of Erase (0x43) and Extended Erase (0x44); the other is NACKed and erases nothing",
        "command set: Get Checksum (0xA1) where the part lists it: the CRC of the written bytes in both forms; else NACK",
        "error injection: a Write Memory block with a bad checksum is NACKed and nothing is written",
        "error injection: writes to a write-protected page are ACKed and dropped; Write Unprotect lifts the protection",
        "error injection: Readout Protect resets into RDP level 1: reads are refused; Readout Unprotect mass-erases and reopens",
        "full update: probes like stm32flash: sync, Get Version, Get, Get ID names the part",
        "full update: erases, writes 128 KB in 256-byte blocks, reads it back and starts it with Go",
        "power interruption: power cut after write block k: the host times out, resyncs after power-on, the second update succeeds",
      ]);
      expect(result.pending).to.deep.equal([
        // The part lists Extended Erase; the 0x43 personality is an emulated board's.
        "stm32-usart: command set l432-pty (stm32l432) Erase (0x43) where the part lists it: the listed pages only, then the global erase 0xFF 0x00",
        "stm32-usart: error injection skipped: rig 'pty-lab': board of family stm32l432 or stm32wb55 (l432-pty) lacks capability flash-faults",
        "stm32-usart: error injection skipped: rig 'pty-lab' has no board of family stm32wb55",
        "stm32-usart: power interruption skipped: rig 'pty-lab': board of family stm32l432 or stm32wb55 (l432-pty) lacks capability flash-faults",
      ]);
    } finally {
      await emulator.stop();
    }
  });

  it("a test failing mid-update (a flash write corrupted) closes its port too: no port left open", async () => {
    const emulator = await startEmulator(
      "stm32l432kc",
      join(byId.dir, PORT_NAME),
      ["--fault", "flash-op:60=bit-flip"],
      { log: false },
    );
    try {
      const result = await runSuitesOnRig({
        rigYaml: [
          "name: pty-lab",
          "boards:",
          "  - id: l432-pty",
          "    family: stm32l432",
          "    capabilities: [usart, power-cut, sacrificial]",
          `    serial: { byId: /dev/serial/by-id/${PORT_NAME}, baudRate: 115200 }`,
          `    power: { backend: command, cutsPower: true, off: "kill -USR1 ${emulator.pid}", on: "kill -USR2 ${emulator.pid}" }`,
          "    timeouts: { enumerateMs: 5000, settleMs: 20, powerOffMs: 300 }",
        ],
        suites: "suites/stm32-usart/full-update.spec.ts",
        args: ["--grep", "writes 128 KB"],
        env: { HIL_SERIAL_BY_ID_DIR: byId.dir },
      });
      expect(result.passes).to.deep.equal([]);
      expect(result.failures, result.stderr).to.have.length(1);
      // The corrupted write is NACKed: the test fails inside its own code, mid-update.
      expect(result.failures[0], result.failures[0]).to.include("erases, writes 128 KB").and.include("NACK");
      expect(portsLeftOpen(result.stderr), "the failing test closes its port").to.deep.equal([]);
    } finally {
      await emulator.stop();
    }
  });
});
