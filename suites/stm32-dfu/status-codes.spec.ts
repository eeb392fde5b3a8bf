import { expect, use } from "chai";
import { type DfuClient, DfuError } from "../../harness/clients/dfu/index.js";
import {
  type Board,
  covers,
  expectError,
  expectFlash,
  type FaultWhere,
  flashChai,
  forEachBoard,
  getRig,
} from "../../harness/index.js";
import {
  DFU_STATUS_MEANINGS,
  DfuRequest,
  DfuState,
  DfuStatus,
  type DfuStatusName,
  type DfuStatusReply,
} from "../../harness/protocol/dfu/index.js";
import {
  appFilter,
  appImage,
  asFile,
  connect,
  DFU_FAMILIES,
  inspected,
  profile,
  startInBootloader,
} from "./fixture.js";

use(flashChai);

/**
 * Every DFU 1.1 bStatus a device may report, handled by the host. The STM32 ROM reports only
 * errTARGET and errVENDOR (AN3156; error-injection.spec.ts) and errSTALLEDPKT (the state table),
 * so the other twelve come from a `dfu-status` fault that makes the emulated ROM act as a DFU
 * 1.1 device whose operation failed: the operation is not performed, the GETSTATUS that reports
 * it says dfuERROR with the status. Each: DfuClient fails with a DfuError naming the status and
 * its meaning, the device stays in dfuERROR with it, the flash holds nothing of the failed
 * operation; after CLRSTATUS the device is dfuIDLE and a second full download is byte-exact.
 *
 * The fault is injected by the emulator and checked from inside (`inspect`): lab boards
 * (never `flash-faults` nor `inspect`, in the rig schema) skip these with that reason.
 */
const rig = getRig();
const IMAGE = 8 * 1024;
const BLOCK = 2048;
/** The 1-based DNLOAD block of the download that fails (wBlockNum FAILING + 1 after one Set Address Pointer). */
const FAILING = 3;

/**
 * Reported for a data block. errUSBR / errPOR would fit a status after a reset as well: a
 * DFU 1.1 device may report any of them for a block, and a block is where the host must stop
 * and leave the flash checkable. errERASE / errCHECK_ERASED are also checked where they
 * belong most, on a DfuSe Erase command ({@link ON_AN_ERASE}).
 */
const ON_A_BLOCK: readonly DfuStatusName[] = [
  "errFILE",
  "errWRITE",
  "errERASE",
  "errCHECK_ERASED",
  "errPROG",
  "errVERIFY",
  "errADDRESS",
  "errUSBR",
  "errPOR",
  "errUNKNOWN",
];

/** Reported for a DfuSe Erase command (DNLOAD wBlockNum 0, 0x41 + page address). */
const ON_AN_ERASE: readonly DfuStatusName[] = ["errERASE", "errCHECK_ERASED"];

/** Arm a dfu-status fault at the next-but-`ahead` occurrence of `event` on the board's emulator. */
function injectStatus(board: Board, event: string, ahead: number, status: DfuStatusName): void {
  const dev = inspected(board);
  const where: FaultWhere = { at: "event", event, occurrence: dev.faults.eventCount(event) + ahead };
  dev.faults.add({ where, what: { do: "dfu-status", status } });
}

function statusOf(s: DfuStatusReply): [number, number] {
  return [s.status, s.state];
}

/**
 * The injected `status` as the host sees it: a DfuError naming it, its meaning, the operation
 * and address; the fault fired; the device still in dfuERROR with it.
 */
async function expectStatusError(
  board: Board,
  client: DfuClient,
  err: unknown,
  status: DfuStatusName,
  at: { operation: string; address: number },
): Promise<void> {
  expect(err)
    .to.be.instanceOf(DfuError)
    .and.include({ kind: "status", status, state: "dfuERROR", ...at });
  expect((err as Error).message).to.contain(DFU_STATUS_MEANINGS[status]);
  expect(inspected(board).faults.fired.at(-1)?.fault.what).to.deep.equal({ do: "dfu-status", status });
  expect(statusOf(await client.getStatus())).to.deep.equal([DfuStatus[status], DfuState.dfuERROR]);
}

/** CLRSTATUS brings the device to dfuIDLE, and a second download of `data` at `base` is byte-exact. */
async function expectRecovery(
  board: Board,
  client: DfuClient,
  base: number,
  data: Uint8Array,
): Promise<void> {
  await client.clearStatus();
  expect(statusOf(await client.getStatus())).to.deep.equal([DfuStatus.OK, DfuState.dfuIDLE]);
  await client.download(asFile("bin", base, data));
  expect(inspected(board).chip.flash).to.hold({ address: base, bytes: data });
}

describe("stm32-dfu: every DFU 1.1 status a device may report", () => {
  forEachBoard(
    rig,
    { family: [...DFU_FAMILIES], capabilities: ["usb-dfu", "flash-faults", "inspect"] },
    (board) => {
      for (const status of ON_A_BLOCK) {
        covers(`DFU 1.1 §6.1.2 ${status}`);
        it(`${status} (${DFU_STATUS_MEANINGS[status]}) for DNLOAD block ${FAILING}: the client stops naming it, the block is not written, CLRSTATUS and a second download recover`, async () => {
          await startInBootloader(board);
          const dev = inspected(board);
          const base = profile(board).flash.base;
          const data = appImage(board, IMAGE, `status-${status}`);
          const image = asFile("bin", base, data);
          expectFlash(dev.chip.flash, { address: base, bytes: data }, "the image after the second download");
          const client = await connect(board);
          injectStatus(board, "dfu.dnload.block", FAILING, status);

          const err = await expectError(() => client.download(image), status);
          const failedAt = base + (FAILING - 1) * BLOCK;
          await expectStatusError(board, client, err, status, {
            operation: `DNLOAD block ${FAILING + 1}`,
            address: failedAt,
          });
          // The blocks before it written, the failed one and the rest still erased.
          expect(dev.chip.flash.isErased(failedAt, BLOCK), "the failed block is not written").to.equal(true);
          const expected = new Uint8Array(IMAGE).fill(0xff);
          expected.set(data.subarray(0, failedAt - base));
          expect(dev.chip.flash).to.hold({ address: base, bytes: expected });

          await expectRecovery(board, client, base, data);
        });
      }

      for (const status of ON_AN_ERASE) {
        covers(`DFU 1.1 §6.1.2 ${status}`);
        it(`${status} (${DFU_STATUS_MEANINGS[status]}) for the Erase command of the second page: the client stops naming it, that page and the rest keep the old image, CLRSTATUS and a second download recover`, async () => {
          await startInBootloader(board);
          const dev = inspected(board);
          const { base, pageSize } = profile(board).flash;
          const old = appImage(board, IMAGE, `erase-old-${status}`);
          const data = appImage(board, IMAGE, `erase-new-${status}`);
          expectFlash(dev.chip.flash, { address: base, bytes: data }, "the image after the second download");
          const client = await connect(board);
          await client.download(asFile("bin", base, old));
          // A download's DNLOADs begin with one Erase command per page, in address order.
          injectStatus(board, "dfu.request.DNLOAD", 2, status);

          const err = await expectError(() => client.download(asFile("bin", base, data)), status);
          await expectStatusError(board, client, err, status, {
            operation: "Erase page",
            address: base + pageSize,
          });
          // The first page erased, the failed one and the rest still the old image, no new block written.
          const expected = old.slice();
          expected.fill(0xff, 0, pageSize);
          expect(dev.chip.flash).to.hold({ address: base, bytes: expected });

          await expectRecovery(board, client, base, data);
        });
      }

      covers("DFU 1.1 §6.1.2 errNOTDONE");
      it("errNOTDONE (the device does not think it has all data) for the zero-length DNLOAD that leaves: no leave, CLRSTATUS, a second download and leave run the application", async () => {
        await startInBootloader(board);
        const dev = inspected(board);
        const base = profile(board).flash.base;
        const data = appImage(board, IMAGE, "status-errNOTDONE");
        const image = asFile("bin", base, data);
        expectFlash(dev.chip.flash, { address: base, bytes: data }, "the image");
        const client = await connect(board);
        await client.download(image);
        // leave() without an address: its zero-length DNLOAD is the next DNLOAD.
        injectStatus(board, "dfu.request.DNLOAD", 1, "errNOTDONE");

        const err = await expectError(() => client.leave(), "errNOTDONE");
        expect(err).to.be.instanceOf(DfuError).and.include({
          kind: "status",
          status: "errNOTDONE",
          state: "dfuERROR",
          operation: "leave",
        });
        expect((err as Error).message).to.contain(DFU_STATUS_MEANINGS.errNOTDONE);
        expect(dev.faults.fired.at(-1)?.fault.what).to.deep.equal({ do: "dfu-status", status: "errNOTDONE" });
        // Still the same enumeration of the bootloader: nothing manifested, the handle is live.
        expect(statusOf(await client.getStatus())).to.deep.equal([DfuStatus.errNOTDONE, DfuState.dfuERROR]);
        expect(dev.mode.kind).to.equal("bootloader");
        expect(dev.chip.flash).to.hold({ address: base, bytes: data });

        await client.clearStatus();
        expect(statusOf(await client.getStatus())).to.deep.equal([DfuStatus.OK, DfuState.dfuIDLE]);
        await client.download(image);
        expect(dev.chip.flash).to.hold({ address: base, bytes: data });
        await client.leave(base);
        await client.waitForApplication(appFilter(board));
        expect(dev.mode).to.deep.include({ kind: "application", entry: base });
      });

      covers("DFU 1.1 §6.1.2 errFIRMWARE");
      it("errFIRMWARE (the device's firmware is corrupt) at the first GETSTATUS, as an STM32F4 ROM starts: the client's download clears it with CLRSTATUS, says so, and the image is written", async () => {
        await startInBootloader(board);
        const dev = inspected(board);
        const base = profile(board).flash.base;
        const data = appImage(board, IMAGE, "status-errFIRMWARE");
        expectFlash(dev.chip.flash, { address: base, bytes: data }, "the image");
        const client = await connect(board);
        injectStatus(board, "dfu.request.GETSTATUS", 1, "errFIRMWARE");

        // What the device says before the host does anything: dfuERROR, errFIRMWARE, and it stays so.
        expect(statusOf(await client.getStatus())).to.deep.equal([DfuStatus.errFIRMWARE, DfuState.dfuERROR]);
        expect(statusOf(await client.getStatus())).to.deep.equal([DfuStatus.errFIRMWARE, DfuState.dfuERROR]);
        expect(dev.chip.flash.isErased(base, IMAGE)).to.equal(true);

        const from = client.transcript.entries.length;
        await client.download(asFile("bin", base, data));
        const during = client.transcript.entries.slice(from);
        const cleared = during.findIndex((e) => e.note?.includes(DFU_STATUS_MEANINGS.errFIRMWARE));
        expect(cleared, "the transcript says which error was cleared, with its meaning").to.be.at.least(0);
        expect(during.slice(cleared).some((e) => e.setup?.bRequest === DfuRequest.CLRSTATUS)).to.equal(true);
        expect(dev.chip.flash).to.hold({ address: base, bytes: data });
        expect(statusOf(await client.getStatus())).to.deep.equal([DfuStatus.OK, DfuState.dfuDNLOAD_IDLE]);
      });
    },
  );
});
