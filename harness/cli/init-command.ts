/**
 * `hil init [DIR] [--family F,...]`: scaffolds a team's project that installs update-hil
 * rather than forking it, so that `npm install` and `npm run regress` are its first green
 * run: package.json (the dependency and the regress/report scripts), the default emulated
 * rack and a commented lab rack, a sample suite per family, the team's clause file and
 * .mocharc.json for plain mocha. Files that exist are kept (package.json gains what it lacks).
 */
import { existsSync } from "node:fs";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { basename, dirname, join, relative, resolve } from "node:path";
import { generateKey, privateKeyPem, publicKeyPem, publicOf } from "../protocol/mcuboot/index.js";
import { projectRoot } from "../seams/paths.js";
import {
  clausesFile,
  DEV_KEY,
  FAMILY_TEMPLATES,
  type FamilyTemplate,
  GITIGNORE,
  MOCHARC,
} from "./init-templates.js";
import { UsageError } from "./usage-error.js";

export const INIT_OPTIONS = {
  family: { type: "string", multiple: true },
} as const;

export interface InitOptions {
  family?: string[] | undefined;
}

/** The families `--family` names (comma lists, repeatable); default stm32l432. @throws {UsageError} */
export function initFamilies(values: readonly string[] | undefined): FamilyTemplate[] {
  const names = (values ?? ["stm32l432"]).flatMap((v) => v.split(",")).map((v) => v.trim());
  return [...new Set(names.filter(Boolean))].map((name) => {
    const t = FAMILY_TEMPLATES[name];
    if (!t)
      throw new UsageError(
        `--family: no sample for '${name}' (choose from ${Object.keys(FAMILY_TEMPLATES).join(", ")})`,
      );
    return t;
  });
}

interface PackageJson {
  name?: string;
  version?: string;
  private?: boolean;
  type?: string;
  scripts?: Record<string, string>;
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
  [key: string]: unknown;
}

/** The team's package.json: update-hil and what its suites import, and the scripts, added where missing. */
export function scaffoldPackage(
  existing: PackageJson | undefined,
  name: string,
  own: PackageJson,
  families: readonly FamilyTemplate[],
): PackageJson {
  const pkg: PackageJson = existing ?? { name, version: "0.1.0", private: true, type: "module" };
  pkg.type ??= "module";
  const rig = "--rig rigs/emulated.yaml"; // also the default, named so a lab rig is one word away
  const packs = [...new Set(families.map((f) => f.pack))].join(",");
  pkg.scripts = {
    regress: `hil run ${rig}; status=$?; hil report; exit $status`,
    report: "hil report",
    qualify: `hil run ${rig} --pack ${packs}; status=$?; hil report; exit $status`,
    ...pkg.scripts,
  };
  pkg.dependencies = { "update-hil": `^${own.version}`, ...pkg.dependencies };
  // What the suites import themselves (chai), plain mocha's loaders and the Allure report CLI.
  const from = { ...own.dependencies, ...own.devDependencies };
  const dev: Record<string, string> = {};
  for (const d of ["chai", "mocha", "tsx", "allure-mocha", "allure"]) if (from[d]) dev[d] = from[d];
  pkg.devDependencies = { ...dev, ...pkg.devDependencies };
  for (const d of Object.keys(pkg.dependencies)) delete pkg.devDependencies[d];
  return pkg;
}

export async function runInit(opts: InitOptions, positionals: readonly string[]): Promise<number> {
  if (positionals.length > 1) throw new UsageError("usage: hil init [DIR] [--family F,...]");
  const families = initFamilies(opts.family);
  const dir = resolve(positionals[0] ?? ".");
  const own = JSON.parse(await readFile(join(projectRoot(), "package.json"), "utf8")) as PackageJson;
  const lab = await readFile(join(projectRoot(), "rigs", "examples", families[0]!.labExample), "utf8");
  const rack = await readFile(join(projectRoot(), "rigs", "emulated.yaml"), "utf8");

  const files: Record<string, string> = {
    "rigs/emulated.yaml": `# update-hil's default emulated rack (hil init copied it): every family on virtual time.\n${rack}`,
    "rigs/lab.example.yaml": `# A lab rack (hil init copied update-hil's rigs/examples/${families[0]!.labExample}): copy it to\n# rigs/lab.yaml, put in your boards' identities and backends, check it with\n# \`npx hil rigs --rig rigs/lab.yaml --check\`, then \`npx hil run --rig rigs/lab.yaml\`.\n${lab}`,
    "hil-clauses.yaml": clausesFile(families.flatMap((f) => f.clauses)),
    ".mocharc.json": MOCHARC,
    ".gitignore": GITIGNORE,
  };
  for (const f of families) files[f.file] = f.suite;
  if (families.some((f) => f.family === "nrf52840")) {
    // A development key for the sample's images, which the emulated nRF52840 trusts beside
    // update-hil's test key (the built-in pack signs with that one).
    const key = generateKey("ecdsa-p256");
    const pub = DEV_KEY.replace(/\.pem$/, ".pub.pem");
    files[DEV_KEY] = privateKeyPem(key);
    files[pub] = publicKeyPem(publicOf(key));
    const builtin = /^(\s*key: )(fixtures\/mcuboot\/\S+\.pem)\s*$/m;
    if (!builtin.test(rack))
      throw new Error("rigs/emulated.yaml: no nrf52840 key line to add the development key to");
    files["rigs/emulated.yaml"] = files["rigs/emulated.yaml"]!.replace(builtin, `$1[$2, ${pub}]`);
  }

  const written: string[] = [];
  const kept: string[] = [];
  for (const [name, text] of Object.entries(files)) {
    const path = join(dir, name);
    if (existsSync(path)) {
      kept.push(name);
      continue;
    }
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, text);
    written.push(name);
  }
  const pkgPath = join(dir, "package.json");
  const existing = existsSync(pkgPath)
    ? (JSON.parse(await readFile(pkgPath, "utf8")) as PackageJson)
    : undefined;
  const name =
    basename(dir)
      .toLowerCase()
      .replace(/[^a-z0-9._-]+/g, "-") || "firmware-hil";
  await writeFile(pkgPath, `${JSON.stringify(scaffoldPackage(existing, name, own, families), null, 2)}\n`);
  written.push(existing ? "package.json (added update-hil and scripts)" : "package.json");

  const rel = relative(process.cwd(), dir);
  const where = rel.startsWith("..") ? dir : rel;
  console.log(`hil init: wrote ${written.join(", ")}${kept.length ? `; kept ${kept.join(", ")}` : ""}`);
  console.log(`next: ${where ? `cd ${where} && ` : ""}npm install && npm run regress`);
  return 0;
}
