import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import { builtinSuitesDir, suiteFiles } from "../../harness/cli/suite-files.js";
import { catalogueSync, citationOf, findClause } from "../../harness/report/catalogue.js";
import { clauseEvidence, docsMirror } from "../../harness/report/clause.js";
import { collectDeclaredTests } from "../../harness/report/declared.js";
import { buildMatrix, loadCatalogue, matrixMarkdown } from "../../harness/report/matrix.js";

const AN5185_URL =
  "https://www.st.com/resource/en/application_note/an5185-st-firmware-upgrade-services-for-stm32wb-series-stmicroelectronics.pdf";

describe("report: clause severity and citations", () => {
  it("labels a critical clause critical and cites its document by name, revision and section", () => {
    const e = clauseEvidence(["AN5185 Table 3 Other failures (power interruption during FUS operation)"], {});
    expect(e.labels).to.deep.include({ name: "severity", value: "critical" });
    expect(e.links).to.deep.equal([{ name: "AN5185 Rev 1 Table 3", url: AN5185_URL }]);
  });

  it("cites the section a clause names, from the source its text starts with", () => {
    const cite = (clause: string) => {
      const found = findClause(catalogueSync(), clause);
      expect(found, clause).not.to.equal(undefined);
      return citationOf(found!.document, clause)?.text;
    };
    expect(cite("AN5185 §2.2.2 image start aligned to a sector")).to.equal("AN5185 Rev 1 §2.2.2");
    expect(cite("DFU 1.1 §6.1.2 errPROG")).to.equal("DFU 1.1 §6.1.2");
    expect(cite("DFU 1.1 Appendix A state table: dfuIDLE / DFU_ABORT")).to.equal("DFU 1.1 Appendix A");
    expect(cite("UM0391 (DfuSe file format)")).to.equal("UM0391 as implemented by dfu-util 0.11 dfuse.c");
    expect(cite("AN3156 §5.5 (leave)")).to.equal("AN3156 Rev 17 §5.5");
    expect(cite("AN2606 Pattern 16 (boot selection)")).to.equal("AN2606 Rev 70 Pattern 16");
    expect(cite("MCUboot design.md: image trailer states after a swap")).to.equal(
      "MCUboot design.md mcuboot 2d4bacc3",
    );
    expect(cite("MCUboot image_validate.c: SHA256 TLV must match")).to.equal("MCUboot mcuboot 2d4bacc3");
    // The section of another document named after a ";" is not this one's.
    expect(
      cite("design.md: power-fail loop; AN3156 §5 (download), AN2606 Pattern 16 (boot after reset)"),
    ).to.equal("design.md workspace design.md");
  });

  it("no link points into the workspace; HIL_DOCS_URL adds the lab's copy beside the public address", () => {
    const clauses = catalogueSync().documents.flatMap((d) => d.clauses);
    const links = clauseEvidence(clauses, {}).links;
    expect(links.length).to.be.above(10);
    for (const l of links) expect(l.url, l.name).to.match(/^https:\/\//);
    const design = clauseEvidence(["design.md: power-fail loop"], {});
    expect(design.links, "the project's design has no public address").to.deep.equal([]);
    const mirrored = clauseEvidence(["design.md: power-fail loop", "AN5185 §2.3 wireless stack start"], {
      HIL_DOCS_URL: "https://docs.lab.example/shared/",
    });
    expect(mirrored.links).to.deep.equal([
      { url: "https://docs.lab.example/shared/design.md", name: "design.md workspace design.md (lab copy)" },
      { url: AN5185_URL, name: "AN5185 Rev 1 §2.3" },
      {
        url: "https://docs.lab.example/shared/seeds/003_53e8c8301bbc22ee.txt",
        name: "AN5185 Rev 1 §2.3 (lab copy)",
      },
    ]);
  });

  it("takes the most severe of several clauses; the document default otherwise", () => {
    const normal = clauseEvidence(["AN3155: Go (0x21)"]);
    expect(normal.labels).to.deep.include({ name: "severity", value: "normal" });
    const both = clauseEvidence(["AN3155: Go (0x21)", "AN3155: Readout Protect (0x82)"]);
    expect(both.labels.filter((l) => l.name === "severity")).to.deep.equal([
      { name: "severity", value: "critical" },
    ]);
    // The MCUboot document is critical as a whole.
    expect(clauseEvidence(["MCUboot image_validate.c: SHA256 TLV must match"]).labels).to.deep.include({
      name: "severity",
      value: "critical",
    });
  });

  it('every clause a suite declares is in the catalogue (no "Not in the catalogue" row)', async () => {
    const catalogue = catalogueSync();
    const declared = new Set(
      (await collectDeclaredTests(await suiteFiles([builtinSuitesDir()]))).flatMap((t) => t.clauses),
    );
    expect(declared.size).to.be.above(100);
    const missing = [...declared].filter((c) => findClause(catalogue, c) === undefined);
    expect(missing, "clauses missing from harness/report/clauses.yaml").to.deep.equal([]);
  });

  it("an uncatalogued clause gets its label but no severity and no link", () => {
    const e = clauseEvidence(["not a known clause"]);
    expect(e.labels).to.deep.equal([{ name: "clause", value: "not a known clause" }]);
    expect(e.links).to.deep.equal([]);
  });

  it("HIL_DOCS_URL is the lab's mirror of the workspace copies, unset by default", () => {
    expect(docsMirror({ HIL_DOCS_URL: "https://docs.lab.example/shared/" })).to.equal(
      "https://docs.lab.example/shared",
    );
    expect(docsMirror({})).to.equal(undefined);
  });

  it("every catalogued clause has a severity and a citation with a revision", async () => {
    const c = await loadCatalogue();
    for (const d of c.documents) {
      expect(d.sources, d.document).to.have.length.above(0);
      for (const clause of d.clauses) {
        expect(d.severities?.[clause], clause).to.be.a("string");
        expect(citationOf(d, clause)?.source.revision, clause).to.be.a("string");
      }
    }
  });

  it("the matrix cites each document and clause by name, revision and public address, never ../shared", async () => {
    const m = buildMatrix(await loadCatalogue(), []);
    const md = matrixMarkdown(m);
    expect(md).to.include(
      `Sources: [AN5185 Rev 1 (21-Mar-2019), ST firmware upgrade services for STM32WB Series](${AN5185_URL})`,
    );
    expect(md).to.match(
      /\| AN3155: Readout Protect \(0x82\) \| \[AN3155 Rev 20\]\(https:[^)]+\) \| critical \|/,
    );
    expect(md).to.include(
      `| AN5185 §2.2.2 image start aligned to a sector | [AN5185 Rev 1 §2.2.2](${AN5185_URL}) |`,
    );
    expect(md).not.to.include("../shared");
    expect(md).not.to.include("seeds/");
  });

  it("a catalogue with a typo is refused naming the field", async () => {
    const dir = await mkdtemp(join(tmpdir(), "clauses-"));
    try {
      const file = join(dir, "clauses.yaml");
      const sources = 'sources:\n  - { id: x, name: "X", title: "X spec", revision: "Rev 2" }\n';
      await writeFile(
        file,
        `${sources}documents:\n  - document: "X"\n    cites: [x]\n    severty: critical\n    clauses: ["a"]\n`,
      );
      const err = await loadCatalogue(file).catch((e: Error) => e);
      expect(String(err)).to.include(`${file}: documents.0`);
      expect(String(err)).to.include("severty");
      await writeFile(
        file,
        `${sources}documents:\n  - document: "X"\n    cites: [x, y]\n    clauses: ["a"]\n`,
      );
      const unknown = await loadCatalogue(file).catch((e: Error) => e);
      expect(String(unknown)).to.include(`${file}: documents.0.cites.1: no source with id 'y'`);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
