import { readFileSync } from "node:fs";
import { join } from "node:path";
import { expect } from "chai";
import sinon from "sinon";
import { FIXTURE_KEYS, fixtureApp, fixtureKey } from "../../../fixtures/mcuboot/generate.js";
import { main } from "../../../harness/cli/main.js";
import { parseImage, privateKeyPem, publicKeyPem } from "../../../harness/protocol/mcuboot/index.js";

const FIX = join(import.meta.dirname, "..", "..", "..", "fixtures", "mcuboot");

describe("hil smp (emulated nrf52840-0 on rigs/emulated.yaml)", () => {
  afterEach(() => sinon.restore());

  it("lists the factory image with its hash and flags", async () => {
    const log = sinon.stub(console, "log");
    expect(await main(["smp", "list", "--board", "nrf52840-0"])).to.equal(0);
    const hash = Buffer.from(parseImage(fixtureApp("1.0.0")).hash!).toString("hex");
    expect(log.firstCall.args[0]).to.equal(
      `image=0 slot=0 version=1.0.0 hash=${hash} flags: bootable confirmed active`,
    );
  });

  it("reports a device rc as one line with exit code 1, and bad arguments with exit code 2", async () => {
    const err = sinon.stub(console, "error");
    expect(await main(["smp", "test", "ab".repeat(32), "--board", "nrf52840-0"])).to.equal(1);
    expect(err.firstCall.args[0]).to.equal("hil: smp test: image test: IMG_MGMT_ERR_HASH_NOT_FOUND (8)");
    expect(await main(["smp", "test", "zz", "--board", "nrf52840-0"])).to.equal(2);
    expect(await main(["smp", "list", "--board", "tkey-0"])).to.equal(2);
    expect(await main(["smp", "frobnicate", "--board", "nrf52840-0"])).to.equal(2);
  });
});

describe("fixtures/mcuboot: regenerated deterministically", () => {
  it("the committed test-only keys and app image are what generate.ts makes", () => {
    for (const name of Object.keys(FIXTURE_KEYS)) {
      expect(name).to.match(/^test-only-/);
      const key = fixtureKey(name);
      expect(readFileSync(join(FIX, `${name}.pem`), "utf8")).to.equal(privateKeyPem(key));
      expect(readFileSync(join(FIX, `${name}.pub.pem`), "utf8")).to.equal(publicKeyPem(key));
    }
    expect(new Uint8Array(readFileSync(join(FIX, "test-only-app-1.0.0.signed.bin")))).to.deep.equal(
      fixtureApp("1.0.0"),
    );
  });
});

describe("emulate nrf52840-mcuboot: options", () => {
  it("requires the provisioned key and known options, before opening any pty", async () => {
    const { runEmulateNrf52840 } = await import("../../../harness/cli/emulate-nrf52840.js");
    const run = (option: string[]) =>
      runEmulateNrf52840({ "uart-pty": "/tmp/unused-pty", option }).catch((e) => e);
    expect(await run([]))
      .to.have.property("message")
      .match(/--key FILE \(the provisioned key\) is required/);
    expect(await run(["colour=blue"]))
      .to.have.property("message")
      .match(/KEY one of key, image/);
    expect(await run(["key=fixtures/mcuboot/missing.pem"])).to.have.property("name", "UsageError");
    const both = await runEmulateNrf52840({
      "uart-pty": "/tmp/unused-pty",
      key: "fixtures/mcuboot/a.pem",
      option: ["key=fixtures/mcuboot/b.pem"],
    }).catch((e) => e);
    expect(both)
      .to.have.property("message")
      .match(/--key and --option key= name different files/);
  });
});
