import { expect, use } from "chai";
import { covers, flashChai, forEachBoard, getRig, skipWithReason } from "../../harness/index.js";
import { DfuState } from "../../harness/protocol/dfu/index.js";
import {
  appFilter,
  appImage,
  asFile,
  connect,
  DFU_FAMILIES,
  profile,
  startInBootloader,
  stm32,
} from "./fixture.js";

use(flashChai);

/**
 * Erase + download + verify + leave, from each input format, then the application runs
 * (the board re-enumerates with the application's VID/PID).
 */
const rig = getRig();

describe("stm32-dfu: full update", () => {
  forEachBoard(rig, { family: [...DFU_FAMILIES], capabilities: ["usb-dfu"] }, (board) => {
    for (const format of ["bin", "hex", "dfu"] as const) {
      covers("AN3156 §5 (DfuSe download, leave)", "DFU 1.1 §6 (download, manifestation)");
      it(`updates from a .${format} file and the application runs`, async () => {
        await startInBootloader(board);
        const base = profile(board).flash.base;
        const data = appImage(board, 20_000 + (format === "hex" ? 3 : 0), `full-${format}`);
        const client = await connect(board, "Internal Flash");
        expect(await client.getCommands()).to.deep.equal([0x00, 0x21, 0x41, 0x92]);
        await client.download(asFile(format, base, data));
        await client.verify(asFile("bin", base, data));
        await client.leave(base);
        const app = await client.waitForApplication(appFilter(board));
        expect(app.vendorId).to.equal(appFilter(board).vendorId);
        const dev = stm32(board);
        if (dev) {
          expect(dev.chip.flash).to.hold({ address: base, bytes: data });
          expect(dev.mode).to.deep.include({ kind: "application", entry: base });
        }
      });
    }

    // The size a lab calibrates the emulator from (hil calibrate): the whole flash of an
    // L432KC, a page erase and a block program per 2 KB, as a field update rewrites it.
    covers("AN3156 §5 (DfuSe download, leave)", "DFU 1.1 §6 (download, manifestation)");
    it("updates a 256 KB image in one download, reads it back and the application runs", async () => {
      await startInBootloader(board);
      const base = profile(board).flash.base;
      const data = appImage(board, 256 * 1024, "full-256k");
      const client = await connect(board, "Internal Flash");
      await client.download(asFile("bin", base, data));
      await client.verify(asFile("bin", base, data));
      await client.leave(base);
      await client.waitForApplication(appFilter(board));
      const dev = stm32(board);
      if (dev) expect(dev.chip.flash).to.hold({ address: base, bytes: data });
    });

    covers("AN2606 Pattern 16 (boot selection)", "AN3156 §5.5 (leave)");
    it("BOOT0 selects between the running application and the bootloader", async function () {
      const boot = board.boot;
      if (!boot)
        return await skipWithReason(
          this,
          `${board.id}: no boot control (rig file boot.backend none): BOOT0 cannot be switched`,
        );
      const base = profile(board).flash.base;
      await startInBootloader(board, appImage(board, 4096, "boot0"));
      const client = await connect(board);
      await client.leave(base);
      await client.waitForApplication(appFilter(board));
      await boot.application();
      await board.power.cycle();
      await client.waitForApplication(appFilter(board));
      await boot.bootloader();
      await board.power.cycle();
      const again = await connect(board);
      expect((await again.getStatus()).state).to.equal(DfuState.dfuIDLE);
    });
  });
});
