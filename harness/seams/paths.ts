import { existsSync } from "node:fs";
import { dirname, isAbsolute, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

/** The directory of the nearest package.json above this module (the project root when run from source). */
export function projectRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, "package.json"))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`no package.json above ${fileURLToPath(import.meta.url)}`);
    dir = parent;
  }
  return dir;
}

/**
 * The project a `hil` command works for, whose suites/, reports/ and hil-clauses.yaml are
 * the defaults: update-hil's own when the current directory is inside it, else the nearest
 * package.json above the current directory (a team's project with update-hil installed),
 * else the current directory itself.
 */
export function workRoot(cwd = process.cwd()): string {
  const own = projectRoot();
  if (isWithin(cwd, own)) return own;
  for (let dir = cwd; ; dir = dirname(dir)) {
    if (existsSync(join(dir, "package.json"))) return dir;
    if (dirname(dir) === dir) return cwd;
  }
}

/** True when `path` is `dir` or lies under it. */
export function isWithin(path: string, dir: string): boolean {
  const rel = relative(dir, path);
  return rel === "" || (!rel.startsWith("..") && !isAbsolute(rel));
}
