import { expect, use } from "chai";
import { NackError } from "../../harness/clients/stm32-usart/index.js";
import {
  covers,
  flashChai,
  forEachBoard,
  getRig,
  profileForFamily,
  skipWithReason,
} from "../../harness/index.js";
import { Command, stm32Crc } from "../../harness/protocol/stm32-usart/index.js";
import {
  appImage,
  FLASH,
  factoryReset,
  open,
  pageSize,
  rejection,
  stm32,
  USART,
  update,
  withUsartPersonality,
} from "./fixture.js";

use(flashChai);

/**
 * The commands a part lists in Get are the ones it answers (AN3155, fact sheet §4.2): Erase
 * 0x43 and Extended Erase 0x44 are mutually exclusive, Get Checksum 0xA1 comes with protocol
 * V3.3. What the part leaves out is NACKed and changes nothing; on emulated boards the other
 * personality (the same chip with 0x43, or with 0xA1) runs the same checks.
 */
const rig = getRig();

describe("stm32-usart: command set", () => {
  forEachBoard(rig, USART, (board) => {
    covers("AN3155: Erase Memory (0x43)", "AN3155: Extended Erase (0x44)");
    it("Get lists one of Erase (0x43) and Extended Erase (0x44); the other is NACKed and erases nothing", async () => {
      await factoryReset(board);
      const { client, link } = await open(board);
      try {
        const image = appImage(board, pageSize(board), "erase-command");
        await update(board, client, image);
        const { commands } = await client.get();
        const listed = [Command.Erase, Command.ExtendedErase].filter((c) => commands.includes(c));
        expect(listed, "exactly one erase command in Get").to.have.length(1);
        const other = listed[0] === Command.Erase ? Command.ExtendedErase : Command.Erase;
        await link.write(Uint8Array.of(other, other ^ 0xff));
        expect((await link.read(1, { timeoutMs: 500 }))[0], `0x${other.toString(16)} NACKed`).to.equal(0x1f);
        expect(await client.getId(), "still synced").to.equal(profileForFamily(board.family).pid);
        expect(await client.read(FLASH, image.length), "page 0 kept").to.equalBytes(image);
      } finally {
        await link.close();
      }
    });

    covers("AN3155: Erase Memory (0x43)");
    it("Erase (0x43) where the part lists it: the listed pages only, then the global erase 0xFF 0x00", async function () {
      await factoryReset(board);
      await withUsartPersonality(board, { legacyErase: true }, async () => {
        const { client, link } = await open(board);
        try {
          if (!(await client.get()).commands.includes(Command.Erase)) {
            await skipWithReason(
              this,
              `${board.id} lists Extended Erase (0x44); Erase (0x43) is checked on the emulator's 0x43 personality`,
            );
          }
          const page = pageSize(board);
          const image = appImage(board, 3 * page, "erase-0x43");
          await update(board, client, image);
          await client.erasePages([1]);
          const back = await client.read(FLASH, image.length);
          expect(back.subarray(0, page), "page 0 kept").to.equalBytes(image.subarray(0, page));
          expect(
            back.subarray(page, 2 * page).every((b) => b === 0xff),
            "page 1 erased",
          ).to.equal(true);
          expect(back.subarray(2 * page), "page 2 kept").to.equalBytes(image.subarray(2 * page));
          if (profileForFamily(board.family).massErase) {
            await client.massErase();
            expect(
              (await client.read(FLASH, image.length)).every((b) => b === 0xff),
              "all erased",
            ).to.equal(true);
          }
        } finally {
          await link.close();
        }
      });
    });

    covers("AN3155: Get Checksum (0xA1)");
    it("Get Checksum (0xA1) where the part lists it: the CRC of the written bytes in both forms; else NACK", async () => {
      await factoryReset(board);
      const image = appImage(board, 4096, "checksum");
      const check = async (expectListed: boolean | undefined) => {
        const { client, link } = await open(board);
        try {
          await update(board, client, image);
          const info = await client.probe();
          const listed = info.commands.includes(Command.GetChecksum);
          if (expectListed !== undefined) expect(listed, "0xA1 in Get").to.equal(expectListed);
          if (listed) {
            const crc = stm32Crc(image);
            expect(await client.getChecksum(FLASH, image.length, { form: "an3155" }), "AN3155 form").to.equal(
              crc,
            );
            expect(
              await client.getChecksum(FLASH, image.length, { form: "stm32flash" }),
              "stm32flash form",
            ).to.equal(crc);
          } else {
            expect(info.version, "a part without 0xA1 predates V3.3").to.be.below(0x33);
            expect(await rejection(client.getChecksum(FLASH, image.length))).to.be.instanceOf(NackError);
            expect(await client.getId(), "still synced").to.equal(info.pid);
          }
        } finally {
          await link.close();
        }
      };
      await check(undefined);
      const dev = stm32(board);
      if (dev) {
        await withUsartPersonality(board, { getChecksum: true }, () => check(true));
        expect(dev.events.some((e) => /Get Checksum \(stm32flash form\)/.test(e.detail))).to.equal(true);
      }
    });
  });
});
