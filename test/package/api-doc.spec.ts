import { readFileSync } from "node:fs";
import { join } from "node:path";
import { expect } from "chai";
import { projectRoot } from "../../harness/seams/paths.js";
import { apiSurface, documentedNames, exportEntries } from "../../scripts/api-surface.js";

/**
 * docs/api.md is the public API of record: every name the package's `exports` entries
 * export, and nothing else. Regenerate it with `npm run api` after changing an entry.
 */
describe("package: the public API document and the exports map agree", () => {
  const root = projectRoot();
  const surface = apiSurface(root);
  const doc = readFileSync(join(root, "docs", "api.md"), "utf8");

  it("exports the suites' entry, the clients and the codecs, built from the harness's index files", () => {
    expect(exportEntries(root)).to.deep.include.members([
      { specifier: "update-hil", source: "harness/index.ts" },
      { specifier: "update-hil/clients", source: "harness/clients/index.ts" },
      { specifier: "update-hil/protocol", source: "harness/protocol/index.ts" },
      { specifier: "update-hil/protocol/dfu", source: "harness/protocol/dfu/index.ts" },
    ]);
    const main = surface.find((e) => e.specifier === "update-hil")!.exports.map((x) => x.name);
    // What a suite needs: boards, strategies, inspect, assertions, skip with a reason.
    expect(main).to.include.members(["getRig", "forEachBoard", "Strategy", "requireInspect", "covers"]);
    expect(main).to.include.members(["expectError", "flashChai", "expectFlash", "skipWithReason", "sweep"]);
    expect(
      surface.find((e) => e.specifier === "update-hil/clients")!.exports.map((x) => x.name),
    ).to.include.members(["DfuClient", "UsartClient", "FusClient", "TKeyClient", "SmpClient"]);
  });

  it("lists every export of every entry in docs/api.md, and nothing else", () => {
    const generated = surface.flatMap((e) => e.exports.map((x) => `${e.specifier} ${x.name}`));
    expect(generated.length).to.be.above(300);
    expect(documentedNames(doc)).to.have.members(generated);
  });

  it("gives each export one line of what it is for", () => {
    const bare = surface.flatMap((e) =>
      e.exports.filter((x) => x.summary.length < 12).map((x) => `${e.specifier} ${x.name}`),
    );
    expect(bare).to.deep.equal([]);
  });

  it("keeps deprecated aliases out of the public entries", () => {
    const deprecated = surface.flatMap((e) =>
      e.exports.filter((x) => x.deprecated).map((x) => `${e.specifier} ${x.name}`),
    );
    expect(deprecated).to.deep.equal([]);
    expect(surface.flatMap((e) => e.exports.map((x) => x.name))).to.not.include("UsartBootloader");
  });

  it("reads the document's names back (the check above is not vacuous)", () => {
    expect(
      documentedNames("## `update-hil`\n\n| `getRig` | function | x |\n| `Rig` | type | y |\n"),
    ).to.deep.equal(["update-hil getRig", "update-hil Rig"]);
  });
});
