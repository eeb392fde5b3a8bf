import { createHash } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import { execa } from "execa";

const HIL = join(import.meta.dirname, "..", "..", "bin", "hil.js");

describe("hil tkey (emulated tkey-0 of the default rack)", function () {
  this.timeout(60_000);
  let tmp: string;
  before(async () => {
    tmp = await mkdtemp(join(tmpdir(), "hil-tkey-"));
  });
  after(async () => {
    await rm(tmp, { recursive: true, force: true });
  });
  const hil = (args: string[]) =>
    execa("node", [HIL, "tkey", ...args], {
      reject: false,
      stdin: "ignore",
      env: { HIL_RIG: "", HIL_SEED: "" },
    });

  it("info prints the firmware name, version and decoded UDI", async () => {
    const r = await hil(["info", "--board", "tkey-0"]);
    expect(r.exitCode, r.stderr).to.equal(0);
    expect(r.stdout).to.match(/^firmware "tk1 mkdf" version 5$/m);
    expect(r.stdout).to.match(
      /^UDI vendor 0x[0-9a-f]{4}, product 2 \(Bellatrix\), revision \d+, serial \d+$/m,
    );
  });

  it("load sends the app and prints the digest, which is BLAKE2s-256 of the file (checked with OpenSSL's)", async () => {
    const app = Buffer.from(Array.from({ length: 3001 }, (_, i) => (i * 13) & 0xff));
    const file = join(tmp, "app.bin");
    await writeFile(file, app);
    const r = await hil(["load", file, "--board", "tkey-0"]);
    expect(r.exitCode, r.stderr).to.equal(0);
    const expected = createHash("blake2s256").update(app).digest("hex");
    expect(r.stdout).to.include(`loaded 3001 bytes in 24 chunks; digest ${expected}`);
  });

  it("refuses a missing file before opening the TKey, and a board that is no TKey, exit 2", async () => {
    const missing = await hil(["load", join(tmp, "absent.bin"), "--board", "tkey-0"]);
    expect(missing.exitCode).to.equal(2);
    expect(missing.stderr).to.match(/^hil: tkey: cannot read app file .*absent\.bin/);
    const wrong = await hil(["info", "--board", "l432-0"]);
    expect(wrong.exitCode).to.equal(2);
    expect(wrong.stderr).to.include("board 'l432-0' is a stm32l432, not a tkey");
  });
});
