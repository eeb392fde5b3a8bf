import { expect, use } from "chai";
import { DfuError } from "../../harness/clients/dfu/index.js";
import { covers, expectError, flashChai, forEachBoard, getRig, requireInspect } from "../../harness/index.js";
import {
  buildDfuseFile,
  DFU_STATUS_MEANINGS,
  DfuRequest,
  DfuState,
  DfuStatus,
  ImageFileError,
  loadImage,
} from "../../harness/protocol/dfu/index.js";
import { appImage, connect, DFU_FAMILIES, profile, startInBootloader, stm32 } from "./fixture.js";

use(flashChai);

/** Documented refusals: errTARGET, stall + errSTALLEDPKT, RDP errVENDOR, corrupt files, WB55 limits. */
const rig = getRig();

describe("stm32-dfu: error injection", () => {
  forEachBoard(rig, { family: [...DFU_FAMILIES], capabilities: ["usb-dfu"] }, (board) => {
    covers("AN3156 §5.1 (Write memory: errTARGET for an unsupported address)", "DFU 1.1 §6.1.2 errTARGET");
    it("a write outside the memory map ends in errTARGET and leaves the flash unchanged", async () => {
      await startInBootloader(board, appImage(board, 2048, "outside"));
      const client = await connect(board);
      const p = profile(board);
      const end = p.flash.base + p.flash.pageSize * p.flash.pages;
      const before = stm32(board)?.chip.flash.snapshot();
      await client.setAddress(end - 2048);
      // Block 3 of 2048 bytes: (3 − 2) × 2048 + pointer = the first byte past the flash.
      expect(await client.dnload(3, new Uint8Array(2048).fill(0))).to.equal("ok");
      expect((await client.getStatus()).state).to.equal(DfuState.dfuDNBUSY);
      const s = await client.getStatus();
      expect([s.status, s.state]).to.deep.equal([DfuStatus.errTARGET, DfuState.dfuERROR]);
      const dev = stm32(board);
      if (dev && before) {
        const after = dev.chip.flash;
        expect(after).to.hold({ address: p.flash.base, bytes: appImage(board, 2048, "outside") });
        expect(after.counters.programs).to.equal(before.counters.programs);
      }
      const err = await expectError(() => client.setAddress(end), "errTARGET");
      expect(err).to.be.instanceOf(DfuError).with.property("status", "errTARGET");
      expect((err as Error).message).to.contain(DFU_STATUS_MEANINGS.errTARGET);
    });

    covers("DFU 1.1 Appendix A (state transition table)", "DFU 1.1 §6.1.2 errSTALLEDPKT");
    it("an illegal request stalls, enters dfuERROR with errSTALLEDPKT, and CLRSTATUS recovers", async () => {
      await startInBootloader(board);
      const client = await connect(board);
      await client.setAddress(profile(board).flash.base); // now dfuDNLOAD-IDLE
      expect(await client.requestIn(DfuRequest.UPLOAD, 2, 64)).to.equal("stall");
      const s = await client.getStatus();
      expect([s.status, s.state]).to.deep.equal([DfuStatus.errSTALLEDPKT, DfuState.dfuERROR]);
      expect(await client.requestOut(DfuRequest.CLRSTATUS)).to.equal("ok");
      const ok = await client.getStatus();
      expect([ok.status, ok.state]).to.deep.equal([DfuStatus.OK, DfuState.dfuIDLE]);
    });

    covers("DFU 1.1 Appendix B (suffix CRC)", "UM0391 (DfuSe file format)");
    it("a corrupt .dfu is refused before any transfer, naming the offset", async () => {
      await startInBootloader(board);
      const client = await connect(board);
      const file = buildDfuseFile([
        { alt: 0, elements: [{ address: profile(board).flash.base, data: new Uint8Array(64) }] },
      ]);
      file[300]! ^= 0x01;
      const before = client.transcript.entries.length;
      expect(() => loadImage("corrupt.dfu", file)).to.throw(
        ImageFileError,
        `dwCRC at offset ${file.length - 4}`,
      );
      const truncated = file.subarray(0, 200);
      expect(() => loadImage("short.dfu", truncated)).to.throw(ImageFileError, /short\.dfu: .* at offset/);
      expect(client.transcript.entries.length).to.equal(before);
      if (stm32(board)) expect(stm32(board)!.chip.flash.counters.ops).to.equal(0);
    });
  });

  forEachBoard(rig, { family: [...DFU_FAMILIES], capabilities: ["usb-dfu", "sacrificial"] }, (board) => {
    covers("AN3156 §4.2 / §5.4 (readout protection: errVENDOR, Read Unprotect)", "DFU 1.1 §6.1.2 errVENDOR");
    it("RDP level 1: upload refused with errVENDOR; Read Unprotect mass-erases and the board comes back unprotected", async function () {
      // Setting RDP 1 on a lab board goes through option bytes: not in this suite yet.
      const dev = await requireInspect(
        this,
        board,
        "stm32",
        "RDP level 1 is set through the chip's option bytes",
      );
      await startInBootloader(board, appImage(board, 8192, "rdp"));
      dev.chip.readoutProtect();
      await dev.systemReset("suite: RDP level 1");
      const client = await connect(board);
      const err = await expectError(() => client.upload(profile(board).flash.base, 256), "errVENDOR");
      expect(err).to.be.instanceOf(DfuError).and.include({ status: "errVENDOR", state: "dfuERROR" });
      expect((err as Error).message).to.contain(DFU_STATUS_MEANINGS.errVENDOR);
      const write = await expectError(() => client.erasePage(profile(board).flash.base), "errVENDOR");
      expect(write).to.be.instanceOf(DfuError).with.property("status", "errVENDOR");
      await client.readUnprotect();
      expect(dev.chip.rdpLevel).to.equal(0);
      const back = await client.upload(profile(board).flash.base, 256);
      expect(back.every((b) => b === 0xff)).to.equal(true);
    });
  });

  forEachBoard(rig, { family: "stm32wb55", capabilities: ["usb-dfu"] }, (board) => {
    covers("fact sheet §3 (WB55: no mass erase, user flash ends at SFSA)");
    it("WB55: mass erase refused; flash above SFSA is neither erased nor written", async function () {
      const dev = await requireInspect(
        this,
        board,
        "stm32",
        "the secure area is preloaded over SWD to show that it survives (a lab WB55 would lose its wireless stack if the refusal failed)",
      );
      await startInBootloader(board);
      const sfsa = dev.profile.flash.base + (dev.chip.optionBytes.sfsa ?? 0) * dev.profile.flash.pageSize;
      const secure = Uint8Array.from({ length: 64 }, (_, i) => i);
      dev.chip.flash.load(sfsa, secure);
      const client = await connect(board);
      const mass = await expectError(() => client.massErase(), "errTARGET");
      expect(mass).to.be.instanceOf(DfuError).with.property("status", "errTARGET");
      await client.toIdle();
      const erase = await expectError(() => client.erasePage(sfsa), "errTARGET");
      expect(erase).to.be.instanceOf(DfuError).with.property("status", "errTARGET");
      await client.toIdle();
      const write = await expectError(
        () =>
          client.download(loadImage("secure.bin", new Uint8Array(64), { address: sfsa }), { erase: false }),
        "errTARGET",
      );
      expect(write).to.be.instanceOf(DfuError).with.property("status", "errTARGET");
      expect(dev.chip.flash).to.hold({ address: sfsa, bytes: secure });
    });
  });
});
