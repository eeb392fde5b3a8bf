import { expect, use } from "chai";
import { NackError, UsartTimeoutError } from "../../harness/clients/stm32-usart/index.js";
import {
  covers,
  flashChai,
  forEachBoard,
  getRig,
  requireInspect,
  skipWithReason,
} from "../../harness/index.js";
import { commandFrame, encodeWriteData, u32Frame } from "../../harness/protocol/stm32-usart/index.js";
import { appImage, FLASH, factoryReset, open, rejection, stm32, USART, update } from "./fixture.js";

use(flashChai);

/** What the bootloader refuses, and that it refuses it without writing anything. */
const rig = getRig();

describe("stm32-usart: error injection", () => {
  forEachBoard(rig, USART, (board) => {
    covers("AN3155: Write Memory (0x31): NACK on wrong checksum");
    it("a Write Memory block with a bad checksum is NACKed and nothing is written", async () => {
      await factoryReset(board);
      const { client, link } = await open(board);
      try {
        await client.erasePages([0]);
        const frame = encodeWriteData(Uint8Array.of(0xde, 0xad, 0xbe, 0xef));
        frame[frame.length - 1]! ^= 0x5a;
        await link.write(commandFrame(0x31));
        expect((await link.read(1, { timeoutMs: 500 }))[0]).to.equal(0x79);
        await link.write(u32Frame(FLASH));
        expect((await link.read(1, { timeoutMs: 500 }))[0]).to.equal(0x79);
        await link.write(frame);
        expect((await link.read(1, { timeoutMs: 1000 }))[0], "NACK").to.equal(0x1f);
        expect(await client.readMemory(FLASH, 8)).to.equalBytes(new Uint8Array(8).fill(0xff));
      } finally {
        await link.close();
      }
    });
  });

  forEachBoard(rig, USART, (board) => {
    // Option-byte changes are undone by a factory reset that restores option bytes (an
    // emulator's); a lab board must be marked sacrificial.
    beforeEach(async function () {
      if (!board.strategy.restores.includes("option-bytes") && !board.capabilities.has("sacrificial"))
        await skipWithReason(
          this,
          `${board.id}: write protection and readout protection change the option bytes for good; the rig does not mark the board sacrificial`,
        );
    });

    covers(
      "AN3155: Write Memory (0x31): no error on write-protected sectors",
      "AN3155: Write Protect (0x63) / Write Unprotect (0x73): system reset",
    );
    it("writes to a write-protected page are ACKed and dropped; Write Unprotect lifts the protection", async () => {
      await factoryReset(board);
      const { client, link } = await open(board);
      try {
        await client.erasePages([0, 1]);
        let resets = 0;
        client.events.on("reset", () => {
          resets++;
        });
        await client.writeProtect([0]);
        await client.write(FLASH, Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8));
        expect(await client.readMemory(FLASH, 8)).to.equalBytes(new Uint8Array(8).fill(0xff));
        await client.writeUnprotect();
        expect(resets, "the host resynced after each protection command").to.equal(2);
        await client.write(FLASH, Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8));
        expect(await client.readMemory(FLASH, 8)).to.equalBytes(Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8));
      } finally {
        await link.close();
      }
    });

    covers(
      "AN3155: Readout Protect (0x82)",
      "AN3155: Read Memory (0x11): NACK when RDP is active",
      "AN3155: Readout Unprotect (0x92): mass erase, system reset",
    );
    it("Readout Protect resets into RDP level 1: reads are refused; Readout Unprotect mass-erases and reopens", async () => {
      await factoryReset(board);
      const { client, link } = await open(board);
      try {
        const image = appImage(board, 8192, "rdp");
        await update(board, client, image);
        const before = await client.probe();
        let resets = 0;
        client.events.on("reset", () => {
          resets++;
        });
        // ACK, second ACK once the option bytes are written, then the part resets (the client resyncs).
        await client.readoutProtect();
        expect(resets, "one reset after Readout Protect").to.equal(1);
        const dev = stm32(board);
        if (dev) expect(dev.chip.rdpLevel).to.equal(1);
        // Get, Get Version and Get ID are not among the commands AN3155 refuses under RDP.
        expect(await client.probe(), "probe under RDP").to.deep.equal(before);
        const refused = await rejection(client.readMemory(FLASH, 16));
        expect(refused).to.be.instanceOf(NackError);
        expect(await rejection(client.write(FLASH + 8192, new Uint8Array(8)))).to.be.instanceOf(NackError);
        await client.readoutUnprotect();
        expect(await client.read(FLASH, 8192)).to.equalBytes(new Uint8Array(8192).fill(0xff));
        if (dev) expect(dev.chip.rdpLevel).to.equal(0);
      } finally {
        await link.close();
      }
    });
  });

  forEachBoard(rig, { ...USART, capabilities: ["usart", "flash-faults"] }, (board) => {
    covers("AN3155: XOR checksum of every multi-byte field", "stm32flash resync (0xFF 0x00 until NACK)");
    it("a byte corrupted on the line NACKs that block only; after resync the update completes", async function () {
      const dev = await requireInspect(this, board, "stm32", "the byte is corrupted by the emulator's line");
      await factoryReset(board);
      const third = dev.usartEventCount("usart.write") + 3;
      dev.faults.add({
        where: { at: "event", event: "usart.write", occurrence: third },
        what: { do: "serial-corrupt" },
      });
      const { client, link } = await open(board);
      try {
        const image = appImage(board, 4096, "corrupt");
        await client.erasePages([0, 1]);
        const err = await rejection(client.write(FLASH, image));
        expect(err).to.be.instanceOf(NackError);
        expect(dev.chip.flash.isErased(FLASH + 512, 256), "block 3 not written").to.equal(true);
        await client.recover();
        await client.write(FLASH + 512, image.subarray(512));
        expect(await client.read(FLASH, 4096)).to.equalBytes(image);
      } finally {
        await link.close();
      }
    });
  });

  forEachBoard(rig, { family: "stm32wb55", capabilities: ["usart"] }, (board) => {
    covers(
      "reference §3: WB55 USART extended erase 0xFFFF hangs with no reply",
      "AN3155: Extended Erase (0x44)",
    );
    it("WB55: Extended Erase 0xFFFF never answers; only a reset brings the bootloader back", async () => {
      await factoryReset(board);
      const { client, link } = await open(board);
      try {
        const hang = await rejection(client.massErase());
        expect(hang).to.be.instanceOf(UsartTimeoutError);
        expect((hang as UsartTimeoutError).timeoutMs).to.equal(35_000);
        await board.reset!.reset();
        await client.connect();
        expect(await client.getId()).to.equal(0x495);
      } finally {
        await link.close();
      }
    });
  });
});
