import { expect, use } from "chai";
import { covers, flashChai, forEachBoard, getRig } from "../../harness/index.js";
import { appImage, FLASH, factoryReset, open, stm32, USART, update } from "./fixture.js";

use(flashChai);

/** A firmware update over the USART ROM bootloader (AN3155), as a lab script runs it. */
const rig = getRig();

const PIDS: Record<string, number> = { stm32l432: 0x435, stm32wb55: 0x495 };

describe("stm32-usart: full update", () => {
  forEachBoard(rig, USART, (board) => {
    covers("AN3155: Get (0x00), Get Version (0x01), Get ID (0x02)", "AN2606: STM32L43xxx/WB55 PID");
    it("probes like stm32flash: sync, Get Version, Get, Get ID names the part", async () => {
      await factoryReset(board);
      const { client, link } = await open(board);
      try {
        const info = await client.probe();
        expect(info.pid).to.equal(PIDS[board.family]);
        expect(info.commands).to.include.members([0x00, 0x01, 0x02, 0x11, 0x21, 0x31]);
        expect(info.commands, "0x43 and 0x44 are mutually exclusive").to.not.include.members([0x43, 0x44]);
      } finally {
        await link.close();
      }
    });

    covers(
      "AN3155: Write Memory (0x31)",
      "AN3155: Read Memory (0x11)",
      "AN3155: Extended Erase (0x44)",
      "AN3155: Go (0x21)",
    );
    it("erases, writes 128 KB in 256-byte blocks, reads it back and starts it with Go", async () => {
      await factoryReset(board);
      const { client, link } = await open(board);
      try {
        const image = appImage(board, 128 * 1024, "full-update");
        let blocks = 0;
        client.events.on("block-written", () => {
          blocks++;
        });
        await update(board, client, image);
        expect(blocks).to.equal(512);
        await client.go(FLASH);
        const dev = stm32(board);
        if (dev) {
          expect(dev.chip.flash).to.hold({ address: FLASH, bytes: image });
          expect(dev.mode).to.deep.include({ kind: "application", entry: FLASH });
        }
      } finally {
        await link.close();
      }
    });
  });
});
