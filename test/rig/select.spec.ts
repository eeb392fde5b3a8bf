import { hostname } from "node:os";
import { expect } from "chai";
import { boardLabels, selectBoards } from "../../harness/rig/select.js";
import { fakeBoard } from "./fake-board.js";

const wb1 = fakeBoard({ id: "wb-1", family: "stm32wb55", capabilities: ["fus", "usb-dfu"] });
const wb2 = fakeBoard({ id: "wb-2", family: "stm32wb55", capabilities: ["fus", "usb-dfu", "power-cut"] });
const l432 = fakeBoard({ id: "l432-1", family: "stm32l432", capabilities: ["usb-dfu", "sacrificial"] });
const boards = [wb1, l432, wb2];

describe("selectBoards", () => {
  it("keeps the boards of the family that have every capability, in rig order", () => {
    expect(selectBoards(boards, { family: "stm32wb55" })).to.deep.equal({ boards: [wb1, wb2] });
    expect(
      selectBoards(boards, { family: "stm32wb55", capabilities: ["fus", "power-cut"] }, "lab"),
    ).to.deep.equal({
      boards: [wb2],
    });
    expect(
      selectBoards(boards, { family: ["stm32l432", "stm32wb55"], capabilities: ["usb-dfu"] }),
    ).to.deep.equal({
      boards: [wb1, l432, wb2],
    });
  });

  it("says which family the rig lacks", () => {
    expect(selectBoards(boards, { family: "tkey" }, "lab").skipReason).to.equal(
      "rig 'lab' has no board of family tkey",
    );
    expect(selectBoards(boards, { family: ["tkey", "nrf52840"] }, "lab")).to.deep.equal({
      boards: [],
      skipReason: "rig 'lab' has no board of family tkey or nrf52840",
    });
    expect(selectBoards([], { family: "tkey" }).skipReason).to.equal("the rig has no board of family tkey");
  });

  it("names the boards of the family and the capability they lack", () => {
    expect(
      selectBoards(boards, { family: "stm32wb55", capabilities: ["sacrificial"] }, "lab").skipReason,
    ).to.equal("rig 'lab': boards of family stm32wb55 (wb-1, wb-2) lack capability sacrificial");
    expect(
      selectBoards(boards, { family: "stm32l432", capabilities: ["fus", "power-cut"] }, "lab").skipReason,
    ).to.equal("rig 'lab': board of family stm32l432 (l432-1) lacks capabilities fus, power-cut");
  });

  it("spells out what each board lacks when they lack different things", () => {
    const need = { family: "stm32wb55", capabilities: ["power-cut", "sacrificial"] } as const;
    expect(selectBoards(boards, need, "lab").skipReason).to.equal(
      "rig 'lab': no board of family stm32wb55 has all of power-cut, sacrificial " +
        "(wb-1 lacks power-cut, sacrificial; wb-2 lacks sacrificial)",
    );
  });

  it("refuses a need with no family", () => {
    expect(() => selectBoards(boards, { family: [] })).to.throw(RangeError);
  });
});

describe("boardLabels", () => {
  it("labels rig, board, serial, family, kind, power backend, host and each known version", () => {
    const board = fakeBoard({
      id: "wb-1",
      family: "stm32wb55",
      serial: "206B37864E48",
      emulated: false,
      powerBackend: "scpi",
      info: { bootloader: "13.5", fus: "1.2.0" },
    });
    expect(boardLabels({ name: "lab" }, board)).to.deep.equal([
      { name: "rig", value: "lab" },
      { name: "board", value: "wb-1" },
      { name: "board.serial", value: "206B37864E48" },
      { name: "family", value: "stm32wb55" },
      { name: "board.kind", value: "lab" },
      { name: "board.power", value: "scpi" },
      { name: "host", value: hostname() },
      { name: "version.bootloader", value: "13.5" },
      { name: "version.fus", value: "1.2.0" },
    ]);
  });

  it("leaves out an unknown serial and marks emulated boards", () => {
    const labels = boardLabels({ name: "emulated" }, fakeBoard({ id: "nor", family: "sim-nor" }));
    expect(labels.map((l) => l.name)).to.not.include("board.serial");
    expect(labels).to.deep.include({ name: "board.kind", value: "emulated" });
  });
});
