#!/usr/bin/env node
// The package build (`npm run build`, run by `prepack`): tsc compiles the harness, the
// built-in suites and their fixtures to dist/ (tsconfig.build.json), then the files the
// compiled code reads beside itself are copied there: the clause catalogue, the failure
// categories table (plain JavaScript, shared with allurerc.mjs) and the key files and
// signed image the suites and the emulated nRF52840 load.
import { execFileSync } from "node:child_process";
import { cpSync, readdirSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const dist = join(root, "dist");
rmSync(dist, { recursive: true, force: true });
execFileSync(
  process.execPath,
  [join(root, "node_modules", "typescript", "bin", "tsc"), "-p", "tsconfig.build.json"],
  {
    cwd: root,
    stdio: "inherit",
  },
);

const ASSETS = [
  "harness/report/clauses.yaml",
  "harness/report/failure-categories.mjs",
  "harness/report/failure-categories.d.mts",
  ...readdirSync(join(root, "fixtures", "mcuboot"))
    .filter((name) => name.endsWith(".pem") || name.endsWith(".bin"))
    .map((name) => `fixtures/mcuboot/${name}`),
];
for (const file of ASSETS) cpSync(join(root, file), join(dist, file));
console.log(`build: dist/ (tsc) and ${ASSETS.length} assets`);
