import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import sinon from "sinon";
import { main } from "../../harness/cli/main.js";
import { buildDfuseFile } from "../../harness/protocol/dfu/index.js";

describe("hil dfu (on the emulated rack)", () => {
  let out: sinon.SinonStub;
  let err: sinon.SinonStub;
  let dir: string;
  beforeEach(async () => {
    out = sinon.stub(console, "log");
    err = sinon.stub(console, "error");
    sinon.stub(process.stderr, "write").returns(true);
    dir = await mkdtemp(join(tmpdir(), "hil-dfu-"));
  });
  afterEach(() => sinon.restore());
  const rig = ["--rig", "rigs/emulated.yaml", "--board", "l432-0"];
  const lines = (s: sinon.SinonStub) => s.getCalls().map((c) => String(c.args[0]));

  it("list shows the ROM device and its alt settings", async () => {
    expect(await main(["dfu", "list", ...rig])).to.equal(0);
    expect(lines(out).join("\n")).to.contain('0483:df11 serial=0435A1B2C3D4 "STM32  BOOTLOADER"');
    expect(lines(out).join("\n")).to.contain('alt=0 name="@Internal Flash  /0x08000000/0128*0002Kg"');
  });

  it("download of a .bin with --verify --leave", async () => {
    const bin = join(dir, "app.bin");
    await writeFile(
      bin,
      Uint8Array.from({ length: 5000 }, (_, i) => i & 0xff),
    );
    expect(
      await main(["dfu", "download", bin, "--address", "0x08000000", "--verify", "--leave", ...rig]),
    ).to.equal(0);
    expect(lines(out)).to.include("downloaded 5000 bytes to 0x08000000, verified");
  });

  it("upload writes the bytes read from the board", async () => {
    const file = join(dir, "up.bin");
    expect(
      await main([
        "dfu",
        "upload",
        file,
        "--address",
        "0x1FFF7800",
        "--length",
        "8",
        "--alt",
        "Option Bytes",
        ...rig,
      ]),
    ).to.equal(0);
    expect((await readFile(file)).length).to.equal(8);
  });

  it("a corrupt .dfu exits 2 naming the offset, before any transfer", async () => {
    const file = buildDfuseFile([{ alt: 0, elements: [{ address: 0x08000000, data: new Uint8Array(16) }] }]);
    file[20]! ^= 0xff;
    const path = join(dir, "bad.dfu");
    await writeFile(path, file);
    expect(await main(["dfu", "download", path, ...rig])).to.equal(2);
    expect(lines(err).join("\n")).to.match(/bad\.dfu: DFU suffix dwCRC at offset \d+/);
  });

  it("a DFU failure exits 1 with the device status and the transcript tail", async () => {
    expect(await main(["dfu", "leave", "--address", "0x09000000", ...rig])).to.equal(1);
    const text = lines(err).join("\n");
    expect(text).to.contain("errTARGET");
    expect(text).to.match(/\ntranscript \(last 8 of \d+ entries\):\n/);
  });

  it("bad arguments exit 2", async () => {
    expect(await main(["dfu", "flash", ...rig])).to.equal(2);
    expect(await main(["dfu", "download", "x.bin", "--address", "zz", ...rig])).to.equal(2);
  });
});
