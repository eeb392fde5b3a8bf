/**
 * The twin comparison itself (report/twin-compare.ts), on two emulated boards driven by the
 * real DFU client through the emulator's in-process USB: the "lab" one has the STM32L4
 * GETSTATUS stall during a page erase, the twin has not. (The lab path for DFU is USB/IP,
 * which needs the kernel's vhci-hcd to reach WebUSB; the USART personalities are proven on
 * the lab path in test/rig/twin-lab.spec.ts.)
 */
import { expect } from "chai";
import { DfuClient } from "../../harness/clients/dfu/index.js";
import {
  compareTwin,
  divergenceLine,
  renderDivergence,
  type TwinRecord,
} from "../../harness/report/twin-compare.js";
import { poweredBoard } from "../devices/stm32-dfu/helpers.js";

const ROM = { vendorId: 0x0483, productId: 0xdf11 };

async function erasedOn(id: string, l4EraseStall: boolean): Promise<TwinRecord> {
  const b = await poweredBoard("stm32l432kc", { quirks: { l4EraseStall } });
  const client = await DfuClient.open(b.bus, ROM, { clock: b.clock });
  await client.erasePage(0x08000000);
  return {
    board: id,
    segments: [{ link: "dfu", entries: client.transcript.toJSON().entries }],
    outcome: "passed",
  };
}

describe("report/twin-compare: the first divergence of a twin from its lab board", () => {
  it("the DFU L4 erase stall: the GETSTATUS after the erase command stalls on the lab board, answers on the twin", async () => {
    const lab = await erasedOn("l432-lab", true);
    const twin = await erasedOn("l432-lab-twin", false);
    const d = compareTwin(lab, twin, ["DFU 1.1 state table: dfuDNBUSY"])!;
    expect(d).to.not.equal(undefined);
    // Every exchange before it (descriptors, alt setting, the erase DNLOAD 0x41 + address) is alike.
    // Alike up to the first GETSTATUS after the erase command (dfuDNBUSY); the second parts.
    expect(d.index).to.equal(8);
    expect(d.lab.before.slice(-2)).to.deep.equal([
      "[6] dfu >> ctrl-out DfuSe Erase page 0x08000000: 4100000008",
      "[7] dfu << ctrl-in GETSTATUS dfuDNBUSY: 00xxxxxx0400",
    ]);
    expect(d.twin.before).to.deep.equal(d.lab.before);
    expect(d.lab.exchange).to.equal("[8] dfu << ctrl-in GETSTATUS STALL (stall)");
    expect(d.lab.hex).to.equal(undefined);
    // bStatus OK, bwPollTimeout masked, bState 5 = dfuDNLOAD-IDLE.
    expect(d.twin.hex).to.equal("00xxxxxx0500");
    expect(d.clauses).to.deep.equal(["DFU 1.1 state table: dfuDNBUSY"]);
    expect(renderDivergence(d)).to.contain(`first divergence at exchange ${d.index}`);
    expect(divergenceLine(d)).to.match(new RegExp(`^exchange ${d.index}: lab .*stall.* / twin `));
  });

  it("with the same personality on both there is none; a different outcome alone is one", async () => {
    const lab = await erasedOn("l432-lab", false);
    const twin = await erasedOn("l432-lab-twin", false);
    expect(compareTwin(lab, twin)).to.equal(undefined);
    const failed = compareTwin(lab, { ...twin, outcome: "failed", error: "DfuError: stall" })!;
    expect(failed.outcomeOnly).to.equal(true);
    expect(divergenceLine(failed)).to.equal("outcome: lab passed / twin failed (DfuError: stall)");
  });
});
