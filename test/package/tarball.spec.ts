import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import { execa } from "execa";
import { projectRoot } from "../../harness/seams/paths.js";
import { installTeamProject, type Packed, packProject, teamEnv } from "./team-project.js";

/**
 * The fork-free way, end to end: update-hil packed, installed from the tarball into a fresh
 * project offline, and a team's own suite, written against the public entries only, run with
 * `npx hil run --suites ./suites` and reported with `npx hil report`. Then `hil init`'s
 * output runs green, and a suite that reaches past the exports does not load.
 */

/** The team's suite: a DfuSe update of its own image on the emulated L432, a power cut and the recovery. */
const TEAM_SUITE = `import { expect } from "chai";
import { type Board, bytesEqual, covers, forEachBoard, getRig, usbBusOf, usbFilterOf } from "update-hil";
import { DfuClient, DfuError } from "update-hil/clients";
import { loadImage } from "update-hil/protocol/dfu";

const ROM = { vendorId: 0x0483, productId: 0xdf11 };
const FLASH = 0x0800_0000;
const rig = getRig();

/** ACME's application: a vector table (SP at the top of SRAM1, reset handler), then its code. */
function acmeImage(version: number): Uint8Array {
  const img = new Uint8Array(8 * 1024);
  const view = new DataView(img.buffer);
  view.setUint32(0, 0x2000_c000, true);
  view.setUint32(4, FLASH + 0x1c1, true);
  for (let i = 8; i < img.length; i++) img[i] = (i * 7 + version) & 0xff;
  return img;
}

const rom = (board: Board) => DfuClient.open(usbBusOf(board), usbFilterOf(board, ROM), { clock: board.clock });

describe("acme-app: DfuSe update of our image", () => {
  forEachBoard(rig, { family: "stm32l432", capabilities: ["usb-dfu", "power-cut"] }, (board) => {
    covers("ACME-UPD §2: the update writes our image byte for byte");
    it("writes our image and reads it back", async () => {
      await board.strategy.factoryReset({ image: acmeImage(1) });
      const client = await rom(board);
      await client.download(loadImage("acme.bin", acmeImage(2), { address: FLASH }));
      expect(bytesEqual(await client.upload(FLASH, 8 * 1024), acmeImage(2))).to.equal(true);
      await client.close();
    });

    covers("ACME-UPD §3: a cut update is recovered by a second one");
    it("recovers from a power cut during the download", async () => {
      await board.strategy.factoryReset({ image: acmeImage(1) });
      const image = loadImage("acme.bin", acmeImage(2), { address: FLASH });
      const cut = await rom(board);
      cut.events.on("block", (e) => {
        if (e.index === 2) void board.power.off();
      });
      const error = await cut.download(image).then(() => undefined, (e: unknown) => e);
      expect(error).to.be.instanceOf(DfuError);
      await board.strategy.transition("rom-dfu");
      const client = await rom(board);
      await client.download(image);
      expect(bytesEqual(await client.upload(FLASH, 8 * 1024), acmeImage(2))).to.equal(true);
      await client.close();
    });
  });
});
`;

const TEAM_CLAUSES = `sources:
  - { id: acme-upd, name: ACME-UPD, title: ACME application update specification, revision: A }
documents:
  - document: ACME application update
    set: acme
    cites: [acme-upd]
    severity: critical
    clauses:
      - "ACME-UPD §2: the update writes our image byte for byte"
      - "ACME-UPD §3: a cut update is recovered by a second one"
      - "ACME-UPD §4: the application confirms the new image"
`;

interface AllureResult {
  name: string;
  fullName?: string;
  status: string;
  labels: { name: string; value: string }[];
}

async function allureResults(dir: string): Promise<AllureResult[]> {
  const names = (await readdir(dir)).filter((n) => n.endsWith("-result.json"));
  return Promise.all(
    names.map(async (n) => JSON.parse(await readFile(join(dir, n), "utf8")) as AllureResult),
  );
}

describe("package: a team's project installs the tarball and runs its own suites", function () {
  // npm pack builds with tsc (about 30 s), the offline install about 15 s; the runs are seconds.
  this.timeout(600_000);
  let work: string;
  let team: string;
  let packed: Packed;
  const run = (args: string[], cwd = team) =>
    execa("npx", args, { cwd, env: teamEnv(), reject: false, timeout: 240_000, all: true });

  before(async () => {
    work = await mkdtemp(join(tmpdir(), "hil-package-"));
    team = join(work, "acme");
    await mkdir(join(team, "suites"), { recursive: true });
    packed = await packProject(work);
    await installTeamProject(team, packed, ["chai", "@types/chai", "allure"]);
    await writeFile(join(team, "suites", "acme-update.spec.ts"), TEAM_SUITE);
    await writeFile(join(team, "hil-clauses.yaml"), TEAM_CLAUSES);
  });
  after(async () => {
    if (work) await rm(work, { recursive: true, force: true });
  });

  it("packs compiled JavaScript with types, the hil command and the API page, not the sources", () => {
    expect(packed.files).to.include.members([
      "dist/harness/index.js",
      "dist/harness/index.d.ts",
      "dist/harness/clients/index.d.ts",
      "dist/harness/protocol/dfu/index.js",
      "dist/harness/cli/main.js",
      "dist/suites/stm32-dfu/full-update.spec.js",
      "bin/hil.js",
      "rigs/emulated.yaml",
      "docs/api.md",
      "CHANGELOG.md",
    ]);
    const sources = packed.files.filter(
      (f) => /^(harness|suites|test|bench)\/.*\.ts$/.test(f) || f.startsWith("test/"),
    );
    expect(sources).to.deep.equal([]);
  });

  it("loads the public entry in plain Node, with no TypeScript loader", async () => {
    const r = await execa(
      process.execPath,
      [
        "--input-type=module",
        "-e",
        'const m = await import("update-hil"); console.log(typeof m.forEachBoard, typeof m.getRig)',
      ],
      { cwd: team, env: teamEnv() },
    );
    expect(r.stdout).to.equal("function function");
  });

  it("runs the team's suite with npx hil run --suites ./suites, and reports its clauses", async () => {
    const r = await run(["hil", "run", "--suites", "./suites"]);
    expect(r.exitCode, r.all).to.equal(0);
    expect(r.all).to.include("2 passed, 0 failed, 0 skipped");

    const results = await allureResults(join(team, "reports", "allure-results"));
    const ours = results.filter((x) => x.fullName?.includes("acme-app"));
    expect(ours.map((x) => [x.name, x.status]).sort()).to.deep.equal([
      ["recovers from a power cut during the download", "passed"],
      ["writes our image and reads it back", "passed"],
    ]);
    const labels = ours.flatMap((x) =>
      x.labels.filter((l) => ["clause", "severity"].includes(l.name)).map((l) => l.value),
    );
    expect(labels).to.include.members([
      "ACME-UPD §2: the update writes our image byte for byte",
      "ACME-UPD §3: a cut update is recovered by a second one",
      "critical",
    ]);

    const report = await run(["hil", "report"]);
    expect(report.exitCode, report.all).to.equal(0);
    const matrix = await readFile(join(team, "reports", "qualification-matrix.md"), "utf8");
    expect(matrix).to.include("## ACME application update");
    expect(matrix).to.match(
      /\| ACME-UPD §2: the update writes our image byte for byte \|.*\| passed \| writes our image and reads it back \|/,
    );
    expect(matrix).to.match(/\| ACME-UPD §3: a cut update is recovered by a second one \|.*\| passed \|/);
    expect(matrix).to.match(
      /\| ACME-UPD §4: the application confirms the new image \|.*\*\*gap: no test\*\*/,
    );
    expect(await readFile(join(team, "reports", "junit.xml"), "utf8")).to.include(
      "recovers from a power cut during the download",
    );
    expect((await stat(join(team, "reports", "allure-report", "index.html"))).size).to.be.above(10_000);
  });

  it("type-checks the team's suite against the package's .d.ts, which leave the deprecated members out", async () => {
    // update-hil's own tsc and @types (mocha's globals); update-hil's types come from the install.
    const tsc = (files: string[]) =>
      execa(
        process.execPath,
        [
          join(projectRoot(), "node_modules", "typescript", "bin", "tsc"),
          ...["--noEmit", "--strict", "--skipLibCheck", "--target", "es2023"],
          ...["--module", "nodenext", "--moduleResolution", "nodenext", "--types", "node,mocha"],
          ...["--typeRoots", join(projectRoot(), "node_modules", "@types"), ...files],
        ],
        { cwd: team, reject: false, all: true, timeout: 120_000 },
      );
    const ok = await tsc(["suites/acme-update.spec.ts"]);
    expect(ok.exitCode, ok.all).to.equal(0);
    await writeFile(
      join(team, "old-names.ts"),
      'import { DfuClient } from "update-hil/clients";\nexport const open = DfuClient.connect;\n',
    );
    const old = await tsc(["old-names.ts"]);
    expect(old.exitCode).to.not.equal(0);
    expect(old.all).to.match(/error TS2339: Property 'connect' does not exist on type 'typeof DfuClient'/);
  });

  it("runs a built-in pack beside the team's suite, and reports both", async () => {
    const r = await run(["hil", "run", "--suites", "./suites", "--pack", "stm32-dfu"]);
    expect(r.exitCode, r.all).to.equal(0);
    const results = await allureResults(join(team, "reports", "allure-results"));
    const pack = results.filter((x) => x.fullName?.includes("dist/suites/stm32-dfu/"));
    expect(pack.length).to.be.above(10);
    expect(pack.filter((x) => x.status !== "passed" && x.status !== "skipped")).to.deep.equal([]);
    expect(results.filter((x) => x.fullName?.includes("acme-app"))).to.have.length(2);

    const report = await run(["hil", "report", "--no-allure"]);
    expect(report.exitCode, report.all).to.equal(0);
    const matrix = await readFile(join(team, "reports", "qualification-matrix.md"), "utf8");
    expect(matrix).to.match(/\| ACME-UPD §3: a cut update is recovered by a second one \|.*\| passed \|/);
    const passedRows = (text: string, document: string) =>
      (text.split(`## ${document}`)[1]?.split("\n## ")[0] ?? "")
        .split("\n")
        .filter((l) => l.includes("| passed |"));
    expect(passedRows(matrix, "AN3156").length, "AN3156 rows the pack passed").to.be.above(3);
  });

  it("refuses a suite that imports a path the package does not export", async () => {
    await mkdir(join(team, "suites-internal"), { recursive: true });
    await writeFile(
      join(team, "suites-internal", "internal.spec.ts"),
      'import { Flash } from "update-hil/dist/harness/sim/flash.js";\ndescribe("internal", () => { it("has Flash", () => { if (!Flash) throw new Error("no Flash"); }); });\n',
    );
    const r = await run(["hil", "run", "--suites", "./suites-internal"]);
    expect(r.exitCode).to.not.equal(0);
    expect(r.all).to.include("ERR_PACKAGE_PATH_NOT_EXPORTED");
    expect(r.all).to.include("./dist/harness/sim/flash.js");
  });

  it("hil init's project runs green on the default rack with npm run regress", async () => {
    const init = await run(["hil", "init", "fresh", "--family", "stm32l432,nrf52840,tkey"]);
    expect(init.exitCode, init.all).to.equal(0);
    expect(init.all).to.include("next: cd fresh && npm install && npm run regress");
    const fresh = join(team, "fresh");
    // Its `npm install` would bring what the team project above already has: npm run finds it there.
    const r = await execa("npm", ["run", "regress"], {
      cwd: fresh,
      env: teamEnv(),
      reject: false,
      all: true,
      timeout: 240_000,
    });
    expect(r.exitCode, r.all).to.equal(0);
    expect(r.all).to.include("4 passed, 0 failed, 0 skipped");
    const matrix = await readFile(join(fresh, "reports", "qualification-matrix.md"), "utf8");
    expect(matrix).to.include("## Our firmware update procedure");
    for (const clause of ["UPD-1", "UPD-2", "UPD-3", "UPD-4"])
      expect(matrix).to.match(new RegExp(`\\| ${clause}: .*\\| passed \\|`));
  });
});
