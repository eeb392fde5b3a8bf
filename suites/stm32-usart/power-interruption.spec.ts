import { expect } from "chai";
import { UsartTimeoutError } from "../../harness/clients/stm32-usart/index.js";
import {
  covers,
  diffFlash,
  evidenceNote,
  expectFlash,
  flashOpCut,
  forEachBoard,
  getRig,
  requireInspect,
  sectorMap,
  sweep,
} from "../../harness/index.js";
import {
  appImage,
  FLASH,
  factoryReset,
  open,
  pageSize,
  rejection,
  type Session,
  stm32,
  USART,
  update,
} from "./fixture.js";

/**
 * Power lost in the middle of a USART update: the host notices (a timeout, never a hang),
 * syncs again after power returns and a second update succeeds. Once at write block k
 * through the client's event (works on a lab rig's power backend too), then at every
 * flash operation on the emulator, clean and torn, as MCUboot's simulator does.
 */
const rig = getRig();

describe("stm32-usart: power interruption", () => {
  forEachBoard(rig, { ...USART, capabilities: ["usart", "power-cut"] }, (board) => {
    covers("AN3155: Write Memory (0x31)", "AN3155: 0x7F autobaud after reset", "design.md: power-fail loop");
    it("power cut after write block k: the host times out, resyncs after power-on, the second update succeeds", async () => {
      await factoryReset(board);
      const { client, link } = await open(board);
      try {
        const image = appImage(board, 16 * 1024, "cut-at-block");
        const dev = stm32(board);
        if (dev)
          expectFlash(dev.chip.flash, { address: FLASH, bytes: image }, "the image, after the second update");
        const k = 17;
        const off = client.events.on("block-written", async (e) => {
          if (e.index === k) await board.power.off();
        });
        const err = await rejection(update(board, client, image));
        off();
        expect(err).to.be.instanceOf(UsartTimeoutError);
        expect(client.transcript.render()).to.include("timeout");
        await board.power.on();
        await client.connect();
        await update(board, client, image);
      } finally {
        await link.close();
      }
    });
  });

  forEachBoard(rig, { ...USART, capabilities: ["usart", "power-cut", "flash-faults"] }, (board) => {
    for (const torn of [false, true]) {
      covers(
        "design.md: Emulator rules (NOR flash, power-fail loop)",
        "AN3155: Write Memory (0x31)",
        "AN3155: Extended Erase (0x44)",
      );
      it(`a power cut before every flash operation of an update (${torn ? "torn" : "clean"}) is followed by a good second update`, async function () {
        const dev = await requireInspect(
          this,
          board,
          "stm32",
          "cuts are placed before a flash operation by the emulator",
        );
        const image = appImage(board, 2 * pageSize(board) + 1024, "sweep");
        const placed = { address: FLASH, bytes: image };
        const cutBefore = flashOpCut(dev.chip.flash, torn);
        let session: Session | undefined;
        let cut: Error | undefined;
        const { failures } = await sweep({
          count: async () => {
            await factoryReset(board);
            const start = dev.chip.flash.counters.ops;
            const first = await open(board);
            await update(board, first.client, image);
            await first.link.close();
            const ops = dev.chip.flash.counters.ops - start;
            expect(ops, "erases + 256-byte programs").to.equal(3 + Math.ceil(image.length / 256));
            expectFlash(
              dev.chip.flash,
              { address: FLASH, bytes: image },
              "the image, after the last second update",
            );
            return ops;
          },
          label: (n) => `op ${n}`,
          run: async (n) => {
            await factoryReset(board);
            cutBefore(n);
            session = await open(board);
            cut = await rejection(update(board, session.client, image));
          },
          check: async (n, _total, thrown) => {
            if (thrown || !session || !cut) throw thrown;
            const { client, link } = session;
            const problems: string[] = [];
            if (!(cut instanceof UsartTimeoutError)) problems.push(`expected a timeout, got ${cut.message}`);
            // What the cut left, page by page: N the image, . erased, x anything else.
            const map = sectorMap(dev.chip.flash, { address: FLASH, length: image.length }, { N: placed });
            evidenceNote("flash after each cut (N image, . erased, x other)", `op ${n}: [${map}]`);
            await board.power.on();
            try {
              await client.connect();
              await update(board, client, image);
              const diff = diffFlash(dev.chip.flash, placed);
              if (diff.length > 0)
                problems.push(
                  `flash differs in sector(s) ${diff.map((d) => d.sector.index).join(", ")} (first at 0x${diff[0]!.first.address.toString(16)})`,
                );
            } catch (e) {
              problems.push(`second update failed: ${(e as Error).message}`);
            }
            await link.close();
            return { problem: problems };
          },
        });
        expect(failures).to.deep.equal([]);
      });
    }
  });
});
