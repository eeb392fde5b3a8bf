import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import { clauseEvidence, docsBase } from "../../harness/report/clause.js";
import { buildMatrix, loadCatalogue, matrixMarkdown } from "../../harness/report/matrix.js";

describe("report: clause severity and source links", () => {
  it("labels a critical clause critical and links its seed document", () => {
    const e = clauseEvidence(["AN5185 Table 3 Other failures (power interruption during FUS operation)"]);
    expect(e.labels).to.deep.include({ name: "severity", value: "critical" });
    expect(e.links.map((l) => l.url)).to.deep.equal([
      "../shared/seeds/003_53e8c8301bbc22ee.txt",
      "../shared/reference/stm32-bootloader-dfu-fus.md",
    ]);
    expect(e.links[0]?.name).to.equal("AN5185 (STM32WB FUS): seeds/003_53e8c8301bbc22ee.txt");
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

  it("an uncatalogued clause gets its label but no severity and no link", () => {
    const e = clauseEvidence(["not a known clause"]);
    expect(e.labels).to.deep.equal([{ name: "clause", value: "not a known clause" }]);
    expect(e.links).to.deep.equal([]);
  });

  it("links follow HIL_DOCS_URL", () => {
    expect(docsBase({ HIL_DOCS_URL: "https://docs.lab.example/shared/" })).to.equal(
      "https://docs.lab.example/shared",
    );
    expect(docsBase({})).to.equal("../shared");
  });

  it("every catalogued clause has a severity and every document a source", async () => {
    const c = await loadCatalogue();
    for (const d of c.documents) {
      expect(d.source, d.document).to.have.length.above(0);
      for (const clause of d.clauses) expect(d.severities?.[clause], clause).to.be.a("string");
    }
  });

  it("the matrix shows severity and source per document", async () => {
    const m = buildMatrix(await loadCatalogue(), []);
    const md = matrixMarkdown(m);
    expect(md).to.include("Source: `../shared/seeds/003_53e8c8301bbc22ee.txt`");
    expect(md).to.match(/\| AN3155: Readout Protect \(0x82\) \| critical \|/);
  });

  it("a catalogue with a typo is refused naming the field", async () => {
    const dir = await mkdtemp(join(tmpdir(), "clauses-"));
    try {
      const file = join(dir, "clauses.yaml");
      await writeFile(file, 'documents:\n  - document: "X"\n    severty: critical\n    clauses: ["a"]\n');
      const err = await loadCatalogue(file).catch((e: Error) => e);
      expect(String(err)).to.include(`${file}: documents.0`);
      expect(String(err)).to.include("severty");
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
