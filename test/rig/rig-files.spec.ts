import { readdirSync } from "node:fs";
import { join } from "node:path";
import { expect } from "chai";
import { loadRigFile, projectRoot } from "../../harness/rig/load.js";

const root = projectRoot();
const rigFiles = ["rigs", "rigs/examples"].flatMap((dir) =>
  readdirSync(join(root, dir))
    .filter((name) => /\.ya?ml$/.test(name))
    .map((name) => join(dir, name)),
);

describe("rig files in rigs/ and rigs/examples/", () => {
  it("finds the default rack and the lab examples", () => {
    expect(rigFiles).to.include.members([
      "rigs/emulated.yaml",
      "rigs/examples/nucleo-l432kc-canokey.yaml",
      "rigs/examples/p-nucleo-wb55.yaml",
      "rigs/examples/tkey-rack.yaml",
    ]);
  });

  for (const file of rigFiles) {
    it(`${file} is valid`, async () => {
      const rig = await loadRigFile(join(root, file));
      expect(rig.boards).to.not.be.empty;
    });
  }

  it("the default rack has the emulated sim-nor board the first suite needs", async () => {
    const rig = await loadRigFile(join(root, "rigs/emulated.yaml"));
    expect(rig.name).to.equal("emulated");
    const board = rig.boards.find((b) => b.id === "sim-nor-0");
    expect(board?.kind).to.equal("emulated");
    expect(board?.family).to.equal("sim-nor");
    expect(board?.capabilities).to.have.members(["power-cut", "flash-faults"]);
    expect(board?.kind === "emulated" && board.emulated.seed).to.be.a("number");
  });

  it("the tkey example's merge keys give each board its own identity and power", async () => {
    const rig = await loadRigFile(join(root, "rigs/examples/tkey-rack.yaml"));
    const ports = rig.boards.map((b) => (b.kind === "lab" ? b.usb?.port : undefined));
    expect(ports).to.deep.equal(["1-1.1", "1-1.2", "1-2.1", "2-1"]);
    expect(rig.boards.map((b) => b.power.backend)).to.deep.equal([
      "uhubctl",
      "uhubctl",
      "command",
      "uhubctl",
    ]);
    expect(rig.boards.map((b) => b.capabilities.includes("power-cut"))).to.deep.equal([
      true,
      true,
      true,
      false,
    ]);
  });
});
