/**
 * Child process of declared.ts: loads the suite files HIL_SUITE_FILES lists (one per line)
 * the way `hil run` does
 * (Mocha's programmatic API, so `describe`/`it` exist) but runs none, then writes the tests
 * forEachBoard defined, with their family and declared clauses, to the file HIL_DECLARED_OUT
 * names. Does nothing when imported (only as the process's entry point, with that set).
 */
import { writeFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import Mocha from "mocha";
import { declaredClauses } from "./suite.js";

async function writeDeclared(out: string): Promise<void> {
  const mocha = new Mocha();
  for (const f of (process.env.HIL_SUITE_FILES ?? "").split("\n").filter(Boolean)) mocha.addFile(f);
  await mocha.loadFilesAsync();
  await writeFile(out, JSON.stringify(declaredClauses()));
}

const out = process.env.HIL_DECLARED_OUT;
if (out && process.argv[1] === fileURLToPath(import.meta.url)) {
  await writeDeclared(out);
  process.exit(0);
}
