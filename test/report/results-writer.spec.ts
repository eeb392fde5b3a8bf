import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Status, type TestResult, type TestResultContainer } from "allure-js-commons";
import { FileSystemWriter, type Writer } from "allure-js-commons/sdk/reporter";
import { expect } from "chai";
import { ResultsWriter } from "../../harness/report/results-writer.js";

/** Every kind of file a run writes, through `writer`. */
function writeEverything(writer: Writer, source: string): void {
  writer.writeResult({ uuid: "r1", name: "a test", status: "passed" } as TestResult);
  writer.writeGroup({ uuid: "g1", children: ["r1"] } as unknown as TestResultContainer);
  writer.writeAttachment("a1-attachment.txt", Buffer.from("transcript:\n→ 01 02\n"));
  writer.writeAttachmentFromPath("a2-attachment.bin", source);
  writer.writeEnvironmentInfo({ rig: "rigs/emulated.yaml", "key with space": "v=1", skipped: undefined });
  writer.writeCategoriesDefinitions([{ name: "infrastructure", matchedStatuses: [Status.BROKEN] }]);
  writer.writeGlobals("globals.json", { attachments: [], errors: [] });
}

describe("report: the results writer", () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "hil-results-writer-"));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("writes the files allure's FileSystemWriter writes, same names and bytes, no temporary left", () => {
    const source = join(dir, "source.bin");
    writeFileSync(
      source,
      Uint8Array.from({ length: 300_000 }, (_, i) => i & 0xff),
    );
    const theirs = join(dir, "theirs");
    const ours = join(dir, "ours", "nested");
    writeEverything(new FileSystemWriter({ resultsDir: theirs }), source);
    writeEverything(new ResultsWriter(ours), source);
    const names = readdirSync(theirs).sort();
    expect(readdirSync(ours).sort()).to.deep.equal(names);
    expect(names).to.have.length(7);
    for (const name of names)
      expect(readFileSync(join(ours, name)).equals(readFileSync(join(theirs, name))), name).to.equal(true);
  });

  it("a write that fails leaves no temporary file behind and says which file", () => {
    const writer = new ResultsWriter(dir);
    expect(() => writer.writeAttachmentFromPath("x-attachment.txt", join(dir, "missing"))).to.throw(
      /missing/,
    );
    expect(readdirSync(dir)).to.deep.equal([]);
  });
});
