/**
 * Child process of declared.ts: loads every suite under suites/ the way `hil run` does
 * (Mocha's programmatic API, so `describe`/`it` exist) but runs none, then writes the tests
 * forEachBoard defined, with their family and declared clauses, to the file HIL_DECLARED_OUT
 * names. Does nothing when imported (only as the process's entry point, with that set).
 */
import { readdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import Mocha from "mocha";
import { projectRoot } from "../seams/paths.js";
import { declaredClauses } from "./suite.js";

async function writeDeclared(out: string): Promise<void> {
  const suitesDir = join(projectRoot(), "suites");
  const mocha = new Mocha();
  for (const f of (await readdir(suitesDir, { recursive: true }))
    .filter((n) => n.endsWith(".spec.ts"))
    .sort())
    mocha.addFile(join(suitesDir, f));
  await mocha.loadFilesAsync();
  await writeFile(out, JSON.stringify(declaredClauses()));
}

const out = process.env.HIL_DECLARED_OUT;
if (out && process.argv[1] === fileURLToPath(import.meta.url)) {
  await writeDeclared(out);
  process.exit(0);
}
