import { join } from "node:path";
import { expect } from "chai";
import { startEmulator } from "../../harness/expose/emulator-process.js";
import { byIdDirHooks } from "./lab-emulators.js";
import { portsLeftOpen, runSuitesOnRig } from "./lab-suite-run.js";

const PORT_NAME = "usb-Tillitis_MTA1-USB-V1_68de5d27-if00";

/** The frames suites/tkey/error-injection.spec.ts sends to halt the firmware, by what they are. */
const MALFORMED = [
  "a header with the reserved bit 7 set",
  "a command header with the status bit set",
  "a frame for the app endpoint",
  "NAME_VERSION in a 4-byte frame",
  "an unknown command",
  "LOAD_APP_DATA before LOAD_APP",
  "NAME_VERSION while loading",
  "LOAD_APP in a 32-byte frame",
];

describe("suites/tkey on a lab rig (hil emulate tkey on a pty)", function () {
  this.timeout(300_000);
  const byId = byIdDirHooks();

  it("the same scenarios pass through the lab path; the emulator-only ones skip with the reason", async () => {
    const emulator = await startEmulator("tkey", join(byId.dir, PORT_NAME), [], { log: false });
    try {
      const result = await runSuitesOnRig({
        rigYaml: [
          "name: pty-lab",
          "boards:",
          "  - id: tkey-pty",
          "    family: tkey",
          "    capabilities: [power-cut]",
          `    serial: { byId: /dev/serial/by-id/${PORT_NAME} }`,
          `    power: { backend: command, cutsPower: true, off: "kill -USR1 ${emulator.pid}", on: "kill -USR2 ${emulator.pid}" }`,
          "    timeouts: { enumerateMs: 5000, settleMs: 20, powerOffMs: 100 }",
        ],
        suites: "suites/tkey/*.spec.ts",
        env: { HIL_SERIAL_BY_ID_DIR: byId.dir },
        timeoutMs: 280_000,
        skipReasons: true,
      });
      expect(result.failures, result.stderr).to.deep.equal([]);
      expect(portsLeftOpen(result.stderr), "every test closes the ports it opened").to.deep.equal([]);
      expect(result.passes.map((t) => t.replace(/^tkey: ([\w ]+) tkey-pty \(tkey\) /, "$1: "))).to.deep.equal(
        [
          "error injection: LOAD_APP with size 0 answers STATUS_BAD, and a correct retry loads",
          "error injection: LOAD_APP with a size over the limit answers STATUS_BAD, and a correct retry loads",
          ...MALFORMED.map(
            (what) =>
              `error injection: ${what}: silence, the client times out, a power cycle brings the firmware back`,
          ),
          "full app load: after power-on the firmware answers the probe with its name and version",
          "full app load: GET_UDI reports a known product and the board's serial",
          ...[
            "1 byte",
            "127 bytes (one full chunk)",
            "128 bytes (a chunk and one byte)",
            "100 KiB",
            "the maximum size",
          ].map(
            (size) =>
              `full app load: loads an app of ${size}: the digest is BLAKE2s of the file and the app runs`,
          ),
          // The port vanishes with the cut, as a real TKey's does, and the reload finds it again.
          "power interruption during an app load: a power cut after chunk k (k = 1, 7, 13) leaves firmware mode and a reload succeeds",
        ],
      );
      const needs = "needs the inspect capability (an emulated board; a lab board would need a debug probe)";
      expect(Object.fromEntries(result.skipReasons ?? [])).to.deep.equal({
        "a chunk corrupted in transit: the client sees a digest that is not BLAKE2s of the file": `tkey-pty: corrupting a chunk on the wire needs the emulator's line: ${needs}`,
        "a byte dropped on the line: the firmware halts, the client times out, a replug recovers": `tkey-pty: dropping a byte on the wire needs the emulator's line: ${needs}`,
        "the CDI the app sees is the documented one without a USS": `tkey-pty: the UDS never leaves a real TKey, so only an emulator shows the CDI: ${needs}`,
        "the CDI the app sees is the documented one with a USS": `tkey-pty: the UDS never leaves a real TKey, so only an emulator shows the CDI: ${needs}`,
        "a power cut by the emulator's fault plan after chunk k (the device side of the same cut)": `tkey-pty: the device-side cut comes from the emulator's fault plan: ${needs}`,
      });
      expect(result.pending, "every skipped test has its reason").to.have.length(5);
    } finally {
      await emulator.stop();
    }
  });
});
