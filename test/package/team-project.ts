/**
 * A firmware team's project for the package tests: update-hil packed with `npm pack` and
 * installed from the tarball into a fresh temporary project, offline. The registry is never
 * asked: the project gets a lockfile made from update-hil's own (whose packages `npm ci` left
 * in the npm cache) plus the tarball, so `npm install --offline` resolves everything locally.
 */
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { execa } from "execa";
import { projectRoot } from "../../harness/seams/paths.js";

export interface Packed {
  /** The tarball's path. */
  tarball: string;
  integrity: string;
  /** Paths inside the package. */
  files: string[];
}

interface Manifest {
  name: string;
  version: string;
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
  engines?: Record<string, string>;
}

/** `npm pack` of this repository into `dir` (prepack builds dist/ with tsc). */
export async function packProject(dir: string): Promise<Packed> {
  const r = await execa("npm", ["pack", "--json", "--pack-destination", dir], {
    cwd: projectRoot(),
    timeout: 240_000,
  });
  // The build's own lines come first; the JSON report is the rest.
  const json = JSON.parse(r.stdout.slice(r.stdout.indexOf("\n[") + 1)) as {
    filename: string;
    integrity: string;
    files: { path: string }[];
  }[];
  const [pack] = json;
  if (!pack) throw new Error(`npm pack reported nothing: ${r.stdout.slice(-500)}`);
  return {
    tarball: join(dir, pack.filename),
    integrity: pack.integrity,
    files: pack.files.map((f) => f.path),
  };
}

/**
 * Writes package.json and package-lock.json of a team project in `dir` that depends on the
 * tarball (and `devDependencies` from update-hil's own ranges), then installs it offline.
 */
export async function installTeamProject(
  dir: string,
  packed: Packed,
  devDependencies: string[],
): Promise<void> {
  const own = JSON.parse(await readFile(join(projectRoot(), "package.json"), "utf8")) as Manifest;
  const ownLock = JSON.parse(await readFile(join(projectRoot(), "package-lock.json"), "utf8")) as {
    packages: Record<string, Record<string, unknown>>;
  };
  const ranges = { ...own.dependencies, ...own.devDependencies };
  const dev = Object.fromEntries(devDependencies.map((d) => [d, ranges[d]!]));
  const spec = `file:${packed.tarball}`;
  const manifest = {
    name: "acme-firmware-tests",
    version: "1.0.0",
    private: true,
    type: "module",
    dependencies: { [own.name]: spec },
    devDependencies: dev,
  };
  const packages: Record<string, Record<string, unknown>> = {
    "": {
      name: manifest.name,
      version: manifest.version,
      dependencies: manifest.dependencies,
      devDependencies: dev,
    },
  };
  for (const [path, entry] of Object.entries(ownLock.packages)) {
    if (path === "") continue;
    const { dev: _dev, devOptional: _devOptional, ...rest } = entry;
    packages[path] = rest;
  }
  packages[`node_modules/${own.name}`] = {
    version: own.version,
    resolved: spec,
    integrity: packed.integrity,
    dependencies: own.dependencies,
    bin: { hil: "bin/hil.js" },
    engines: own.engines,
  };
  await writeFile(join(dir, "package.json"), `${JSON.stringify(manifest, null, 2)}\n`);
  await writeFile(
    join(dir, "package-lock.json"),
    `${JSON.stringify({ name: manifest.name, version: manifest.version, lockfileVersion: 3, requires: true, packages }, null, 2)}\n`,
  );
  await execa("npm", ["install", "--offline", "--no-audit", "--no-fund"], { cwd: dir, timeout: 180_000 });
}

/** The environment of a command run in the team project: none of this repository's run settings. */
export function teamEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, CI: "true" };
  for (const name of Object.keys(env)) if (name.startsWith("HIL_")) delete env[name];
  return env;
}
