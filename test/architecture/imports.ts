/**
 * The project's import graph, read from source: every relative `import`, `import type`,
 * `export … from` and `import()` in the TypeScript files under the given folders. The
 * TypeScript scanner finds them, so comments and strings never count.
 */
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";
import ts from "typescript";

/** One import: `from` imports `to` (both project-relative, `/`-separated) at `line`. */
export interface ImportEdge {
  from: string;
  to: string;
  line: number;
}

/** Every edge out of the .ts/.mts/.mjs files below `dirs` (project-relative) of `root`. */
export function readImports(root: string, dirs: readonly string[]): ImportEdge[] {
  const edges: ImportEdge[] = [];
  for (const dir of dirs)
    for (const file of sourceFiles(join(root, dir)))
      edges.push(...importsOf(root, file, readFileSync(file, "utf8")));
  return edges;
}

/** The relative imports of one file's `text` (bare package names are not the project's). */
export function importsOf(root: string, file: string, text: string): ImportEdge[] {
  const from = posix(relative(root, file));
  return ts
    .preProcessFile(text, true, true)
    .importedFiles.filter((f) => f.fileName.startsWith("."))
    .map((f) => ({
      from,
      to: posix(relative(root, resolve(dirname(file), f.fileName))).replace(/\.js$/, ".ts"),
      line: lineAt(text, f.pos),
    }));
}

function lineAt(text: string, pos: number): number {
  let line = 1;
  for (let i = text.indexOf("\n"); i !== -1 && i < pos; i = text.indexOf("\n", i + 1)) line++;
  return line;
}

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === "node_modules" || entry.name.startsWith(".")) continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...sourceFiles(path));
    else if (/\.(ts|mts|mjs)$/.test(entry.name) && !/\.d\.m?ts$/.test(entry.name)) out.push(path);
  }
  return out;
}

function posix(path: string): string {
  return path.split(sep).join("/");
}
