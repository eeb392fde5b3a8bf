/**
 * `hil emulate --option` with a dotted key sets a nested option, as the rig file's
 * `emulated.options` does: `dfu.l4EraseStall=true` plants the L4 erase stall on a board
 * served over USB/IP; an unknown `dfu.*` key is a usage error naming it.
 */
import { join } from "node:path";
import { expect } from "chai";
import { execa } from "execa";
import { emulatorOptions, nestOptions } from "../../harness/cli/emulate-args.js";
import { UsageError } from "../../harness/cli/usage-error.js";
import { startUsbipEmulator } from "../../harness/expose/usbip-process.js";
import { parseRigFile, projectRoot } from "../../harness/rig/load.js";
import { buildRig } from "../../harness/rig/rig.js";
import { connect } from "../../suites/stm32-dfu/fixture.js";

const HIL = join(projectRoot(), "bin", "hil.js");

describe("hil emulate --option with dotted keys", function () {
  this.timeout(60_000);

  it("a dotted key nests; true, false and numbers are parsed there; plain keys stay strings", () => {
    const flat = emulatorOptions([
      "dfu.l4EraseStall=true",
      "dfu.startInError=false",
      "app.vendorId=0x1209",
      "app.productId=42",
      "app.product=Widget 2",
      "usartDoubleAck=true",
    ]);
    expect(nestOptions(flat)).to.deep.equal({
      dfu: { l4EraseStall: true, startInError: false },
      app: { vendorId: 0x1209, productId: 42, product: "Widget 2" },
      usartDoubleAck: "true",
    });
    expect(() => nestOptions(emulatorOptions(["dfu=1", "dfu.l4EraseStall=true"]))).to.throw(
      UsageError,
      "--option 'dfu.l4EraseStall=true': dfu is already a plain value",
    );
    expect(() => nestOptions({ "dfu..x": "1" })).to.throw(UsageError, "empty part in the key");
  });

  it("an unknown dfu.* key, or a quirk that is not true/false, is one line naming the key, exit 2", async () => {
    for (const [option, key] of [
      ["dfu.l4EraseStal=true", "dfu.l4EraseStal"],
      ["dfu.l4EraseStall=yes", "dfu.l4EraseStall"],
    ] as const) {
      const r = await execa(
        "node",
        [HIL, "emulate", "stm32l432", "--usbip", "127.0.0.1:0", "--option", option],
        {
          reject: false,
          timeout: 30_000,
        },
      );
      expect(r.exitCode, option).to.equal(2);
      expect(r.stdout, option).to.equal("");
      expect(r.stderr.trim(), option).to.equal(
        `hil: --option: emulated option ${key}: expected l4EraseStall, startInError, skipEraseAfterPowerLoss: true or false`,
      );
    }
  });

  for (const planted of [true, false])
    it(`--usbip with dfu.l4EraseStall=${planted}: the GETSTATUS after a page erase ${planted ? "stalls" : "answers"}`, async () => {
      // A 26 ms erase: the ROM asks for 8, so even a late poll on a loaded machine comes in
      // while it erases (where the stall is), and within the client's 3 stalled polls.
      const emu = await startUsbipEmulator(
        "stm32l432",
        ["--option", `dfu.l4EraseStall=${planted}`, "--option", "timing.pageEraseMs=26"],
        { log: false },
      );
      try {
        const yaml = [
          "name: usbip-option",
          "boards:",
          "  - id: l432-usbip",
          "    family: stm32l432",
          "    capabilities: [usb-dfu]",
          `    usb: { usbip: "${emu.host}:${emu.port}", busid: "${emu.busid}" }`,
          `    power: { backend: command, off: "kill -USR1 ${emu.pid}", on: "kill -USR2 ${emu.pid}" }`,
          "    timeouts: { enumerateMs: 5000, settleMs: 20, powerOffMs: 300 }",
          "",
        ].join("\n");
        const board = buildRig(parseRigFile(yaml, "usbip-option.yaml"), "usbip-option.yaml").boards[0]!;
        const client = await connect(board);
        try {
          await client.erasePage(0x0800_0000);
          const entries = client.transcript.toJSON().entries;
          // DfuSe Erase (0x41) of page 0x08000000, little-endian.
          const erase = entries.findIndex((e) => e.dir === "ctrl-out" && e.hex === "4100000008");
          expect(erase).to.be.greaterThan(-1);
          // dfuDNBUSY first on both; the second GETSTATUS is where the stall is planted.
          // The first GETSTATUS after it: bState 4, dfuDNBUSY.
          expect(entries[erase + 1]).to.include({ dir: "ctrl-in", status: "ok" });
          expect(entries[erase + 1]!.hex?.slice(8)).to.equal("0400");
          const second = entries[erase + 2]!;
          expect(second.dir).to.equal("ctrl-in");
          expect(second.status).to.equal(planted ? "stall" : "ok");
        } finally {
          await client.close();
        }
      } finally {
        await emu.stop();
      }
    });
});
