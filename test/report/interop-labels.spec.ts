import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { expect } from "chai";
import { catalogueSync, findClause } from "../../harness/report/matrix.js";
import { projectRoot } from "../../harness/rig/load.js";
import { INTEROP_CLAUSES } from "../../interop/result-labels.js";

describe("report: interop results in the matrix", () => {
  it("maps only titles the interop spec has, to clauses the catalogue has", async () => {
    const spec = await readFile(join(projectRoot(), "interop", "usbip.spec.ts"), "utf8");
    const catalogue = catalogueSync();
    for (const [title, clauses] of Object.entries(INTEROP_CLAUSES)) {
      expect(spec, `interop/usbip.spec.ts has no test "${title}"`).to.include(JSON.stringify(title));
      for (const c of clauses)
        expect(findClause(catalogue, c), `${c} is not in clauses.yaml`).to.not.equal(undefined);
    }
  });
});
