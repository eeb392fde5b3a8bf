import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import {
  builtinSuitesDir,
  packDirs,
  recordedSuiteDirs,
  recordSuiteDirs,
  suiteDirs,
  suiteFiles,
} from "../../harness/cli/suite-files.js";
import { UsageError } from "../../harness/cli/usage-error.js";
import { loadCatalogue } from "../../harness/report/catalogue.js";
import { projectRoot } from "../../harness/seams/paths.js";

describe("hil run --suites / --pack: which suite files load", () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "hil-suites-"));
  });
  afterEach(async () => {
    delete process.env.HIL_CLAUSES;
    await rm(dir, { recursive: true, force: true });
  });

  it("names built-in packs by folder or short name, and refuses an unknown one listing the known", async () => {
    const suites = join(projectRoot(), "suites");
    expect(builtinSuitesDir()).to.equal(suites);
    expect(await packDirs(["stm32-dfu", "mcuboot"])).to.deep.equal([
      join(suites, "stm32-dfu"),
      join(suites, "nrf52840-mcuboot"),
    ]);
    const e = await packDirs(["stm32-dfu", "esp32"]).catch((x: unknown) => x);
    expect(e).to.be.instanceOf(UsageError);
    expect((e as Error).message).to.match(/no built-in pack 'esp32' \(known: .*nrf52840-mcuboot.*stm32-dfu/);
  });

  it("takes each --suites folder, then the packs; defaults to the project's suites/ inside it", async () => {
    await mkdir(join(dir, "a", "b"), { recursive: true });
    expect(await suiteDirs({ suites: [dir, join(dir, "a", "b")], pack: ["tkey,sim-nor"] })).to.deep.equal([
      dir,
      join(projectRoot(), "suites", "tkey"),
      join(projectRoot(), "suites", "sim-nor"),
    ]);
    expect(await suiteDirs({})).to.deep.equal([join(projectRoot(), "suites")]);
    // Inside update-hil a pack is its own suites: never loaded twice.
    expect(await suiteDirs({ pack: ["tkey"] })).to.deep.equal([join(projectRoot(), "suites", "tkey")]);
    const e = await suiteDirs({ suites: [join(dir, "missing")] }).catch((x: unknown) => x);
    expect(e).to.be.instanceOf(UsageError);
    expect((e as Error).message).to.include("--suites: no folder");
  });

  it("finds .spec.ts and .spec.js files, not declarations or node_modules; none is a usage error", async () => {
    await mkdir(join(dir, "x", "node_modules", "dep"), { recursive: true });
    for (const f of [
      "x/b.spec.ts",
      "a.spec.js",
      "x/c.spec.d.ts",
      "x/helper.ts",
      "x/node_modules/dep/d.spec.js",
    ])
      await writeFile(join(dir, f), "");
    expect(await suiteFiles([dir])).to.deep.equal([join(dir, "a.spec.js"), join(dir, "x", "b.spec.ts")]);
    const e = await suiteFiles([join(dir, "x", "node_modules", "dep", "none")]).catch((x: unknown) => x);
    expect(e).to.be.instanceOf(UsageError);
  });

  it("notes the run's folders beside its results for hil report", async () => {
    const results = join(dir, "reports", "allure-results");
    expect(await recordedSuiteDirs(results)).to.equal(undefined);
    await recordSuiteDirs(results, [dir, "/elsewhere/suites"]);
    expect(await recordedSuiteDirs(results)).to.deep.equal([dir, "/elsewhere/suites"]);
    // A sibling results folder (two temporary ones under one parent) never reads this note.
    expect(await recordedSuiteDirs(join(dir, "reports", "other-results"))).to.equal(undefined);
  });

  it("adds a team's clause file to the catalogue, its documents citing their own or built-in sources", async () => {
    const file = join(dir, "hil-clauses.yaml");
    await writeFile(
      file,
      [
        "sources:",
        "  - { id: acme-upd, name: ACME-UPD, title: ACME update spec, revision: A }",
        "documents:",
        "  - document: ACME update",
        "    cites: [acme-upd, an3156]",
        "    severity: critical",
        "    clauses: ['ACME-UPD §3: a cut update is recovered']",
        "",
      ].join("\n"),
    );
    process.env.HIL_CLAUSES = file;
    const catalogue = await loadCatalogue();
    const acme = catalogue.documents.find((d) => d.document === "ACME update");
    expect(acme?.clauses).to.deep.equal(["ACME-UPD §3: a cut update is recovered"]);
    expect(acme?.sources?.map((s) => s.id)).to.deep.equal(["acme-upd", "an3156"]);
    expect(catalogue.documents.length).to.be.above(5); // the built-in ones are still there
    await writeFile(file, "documents:\n  - { document: X, cites: [nope], clauses: [a] }\n");
    const e = await loadCatalogue().catch((x: unknown) => x);
    expect((e as Error).message).to.equal(`${file}: documents.0.cites.0: no source with id 'nope'`);
  });
});
