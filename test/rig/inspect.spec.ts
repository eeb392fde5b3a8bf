import { join } from "node:path";
import { expect } from "chai";
import type { Board } from "../../harness/rig/board.js";
import { loadRigFileSync, projectRoot } from "../../harness/rig/load.js";
import { inspectIf, inspectSkipReason, requireInspect } from "../../harness/rig/require-inspect.js";
import { buildRig } from "../../harness/rig/rig.js";
import { selectBoards } from "../../harness/rig/select.js";
import { fakeBoard } from "./fake-board.js";

/** A Mocha context whose skip() throws, as Mocha's does. */
function fakeContext(): { ctx: Mocha.Context; skipped: () => boolean } {
  let skipped = false;
  const ctx = {
    skip() {
      skipped = true;
      throw new Error("skipped");
    },
  } as unknown as Mocha.Context;
  return { ctx, skipped: () => skipped };
}

describe("inspect capability", () => {
  const path = join(projectRoot(), "rigs", "emulated.yaml");
  const emulated = buildRig(loadRigFileSync(path), path).boards;
  const lab = fakeBoard({ id: "lab-wb", family: "stm32wb55", capabilities: ["usb-dfu"], emulated: false });

  it("every emulated board has it, with a view of its own family", () => {
    for (const board of emulated) {
      expect(board.capabilities.has("inspect"), board.id).to.equal(true);
      expect(board.inspect?.family, board.id).to.equal(board.family);
    }
  });

  it("a need of inspect selects emulated boards and skips a lab board with the reason", () => {
    const need = { family: "stm32wb55" as const, capabilities: ["usb-dfu", "inspect"] as const };
    expect(selectBoards(emulated, need).boards.map((b) => b.id)).to.deep.equal(["wb55-0"]);
    expect(selectBoards([lab], need, "lab").skipReason).to.equal(
      "rig 'lab': board of family stm32wb55 (lab-wb) lacks capability inspect",
    );
  });

  it("requireInspect gives the view on an emulated board", async () => {
    const wb55 = emulated.find((b) => b.id === "wb55-0")!;
    const { ctx, skipped } = fakeContext();
    const view = await requireInspect(ctx, wb55, "stm32", "reads the option bytes");
    expect(skipped()).to.equal(false);
    expect(view.chip.optionBytes.raw.length).to.be.greaterThan(0);
    expect(view.state).to.be.a("string");
  });

  it("requireInspect skips a lab board, naming the board and what the test wanted", async () => {
    const { ctx, skipped } = fakeContext();
    let error: unknown;
    await requireInspect(ctx, lab, "stm32", "mass erase refused on a WB55").catch((e) => (error = e));
    expect(skipped()).to.equal(true);
    expect((error as Error).message).to.equal("skipped");
    expect(inspectSkipReason(lab, "mass erase refused on a WB55")).to.equal(
      "lab-wb: mass erase refused on a WB55: needs the inspect capability (an emulated board; a lab board would need a debug probe)",
    );
  });

  it("requireInspect refuses a view of another family (a suite bug, not a skip)", async () => {
    const tkey = emulated.find((b) => b.family === "tkey") as Board;
    const { ctx } = fakeContext();
    let error: unknown;
    await requireInspect(ctx, tkey, "stm32", "x").catch((e) => (error = e));
    expect((error as Error).message).to.match(/is a tkey, not inspectable as stm32/);
    expect(inspectIf(tkey, "stm32")).to.equal(undefined);
    expect(inspectIf(tkey, "tkey")?.family).to.equal("tkey");
  });
});
