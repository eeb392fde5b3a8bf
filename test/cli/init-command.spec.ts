import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import { parse as parseYaml } from "yaml";
import { initFamilies, runInit } from "../../harness/cli/init-command.js";
import { UsageError } from "../../harness/cli/usage-error.js";
import { isPrivate, parsePemKey } from "../../harness/protocol/mcuboot/index.js";
import { loadCatalogue } from "../../harness/report/catalogue.js";
import { loadRigFile } from "../../harness/rig/load.js";
import { projectRoot } from "../../harness/seams/paths.js";

/** What `hil init` writes; test/package/tarball.spec.ts runs its output green from the packed package. */
describe("hil init: scaffolds a team's project", () => {
  let dir: string;
  let log: typeof console.log;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "hil-init-"));
    log = console.log;
    console.log = () => {};
  });
  afterEach(async () => {
    console.log = log;
    delete process.env.HIL_CLAUSES;
    await rm(dir, { recursive: true, force: true });
  });

  it("picks families by name, stm32l432 by default, and refuses one it has no sample for", () => {
    expect(initFamilies(undefined).map((f) => f.family)).to.deep.equal(["stm32l432"]);
    expect(initFamilies(["tkey,nrf52840", "tkey"]).map((f) => f.family)).to.deep.equal(["tkey", "nrf52840"]);
    expect(() => initFamilies(["esp32"])).to.throw(
      UsageError,
      /no sample for 'esp32' \(choose from stm32l432/,
    );
  });

  it("writes the dependency, the scripts, both rigs, a suite per family and the clauses they cover", async () => {
    expect(await runInit({ family: ["stm32l432,nrf52840"] }, [dir])).to.equal(0);
    const own = JSON.parse(await readFile(join(projectRoot(), "package.json"), "utf8")) as {
      version: string;
    };
    const pkg = JSON.parse(await readFile(join(dir, "package.json"), "utf8"));
    expect(pkg.dependencies).to.deep.equal({ "update-hil": `^${own.version}` });
    expect(pkg.scripts.regress).to.match(/^hil run .*; status=\$\?; hil report; exit \$status$/);
    expect(pkg.scripts.report).to.equal("hil report");
    expect(pkg.scripts.qualify).to.include("--pack stm32-dfu,mcuboot");
    expect(pkg.devDependencies).to.include.keys("chai", "mocha", "tsx", "allure-mocha");

    const rig = await loadRigFile(join(dir, "rigs", "emulated.yaml"));
    expect(rig.boards.map((b) => b.family)).to.include.members(["stm32l432", "nrf52840"]);
    const nrf = parseYaml(await readFile(join(dir, "rigs", "emulated.yaml"), "utf8")).boards.find(
      (b: { family: string }) => b.family === "nrf52840",
    );
    expect(nrf.emulated.options.key).to.deep.equal([
      "fixtures/mcuboot/test-only-ecdsa-p256.pub.pem",
      "keys/dev-ecdsa-p256.pub.pem",
    ]);
    expect(isPrivate(parsePemKey(await readFile(join(dir, "keys", "dev-ecdsa-p256.pem"), "utf8")))).to.equal(
      true,
    );
    const lab = await readFile(join(dir, "rigs", "lab.example.yaml"), "utf8");
    expect(lab).to.match(/^# A lab rack/);
    await loadRigFile(join(dir, "rigs", "lab.example.yaml"));

    const suites = [
      await readFile(join(dir, "suites", "stm32l432-update.spec.ts"), "utf8"),
      await readFile(join(dir, "suites", "nrf52840-image.spec.ts"), "utf8"),
    ];
    for (const s of suites) expect(s).to.not.match(/from "(\.\.\/)+harness|update-hil\/dist/);
    const covered = suites.flatMap((s) =>
      [...s.matchAll(/covers\(("[^"]+")\)/g)].map((m) => JSON.parse(m[1]!)),
    );
    expect(covered).to.have.length(3);
    process.env.HIL_CLAUSES = join(dir, "hil-clauses.yaml");
    const ours = (await loadCatalogue()).documents.find(
      (d) => d.document === "Our firmware update procedure",
    );
    expect(ours?.clauses).to.have.members(covered);

    const mocharc = JSON.parse(await readFile(join(dir, ".mocharc.json"), "utf8"));
    expect(mocharc.spec).to.deep.equal(["suites/**/*.spec.ts"]);
    expect(mocharc["node-option"]).to.include("import=tsx");
  });

  it("keeps files that exist and adds to an existing package.json", async () => {
    await writeFile(
      join(dir, "package.json"),
      JSON.stringify({ name: "fw", scripts: { regress: "make hil" }, dependencies: { zod: "^4" } }),
    );
    await writeFile(join(dir, "hil-clauses.yaml"), "# ours\n");
    await runInit({}, [dir]);
    const pkg = JSON.parse(await readFile(join(dir, "package.json"), "utf8"));
    expect(pkg.name).to.equal("fw");
    expect(pkg.scripts.regress).to.equal("make hil");
    expect(pkg.scripts.report).to.equal("hil report");
    expect(pkg.dependencies).to.include.keys("zod", "update-hil");
    expect(await readFile(join(dir, "hil-clauses.yaml"), "utf8")).to.equal("# ours\n");
  });
});
