/**
 * The package's public surface, read from the source behind each `exports` entry with the
 * TypeScript compiler: every exported name, its kind and the first sentence of its doc
 * comment (else of its module's). `npm run api` writes docs/api.md from it;
 * test/package/api-doc.spec.ts checks the document and the exports agree.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import ts from "typescript";
import { API_NOTES } from "./api-notes.js";

export interface ApiExport {
  name: string;
  kind: string;
  summary: string;
  /** Its doc comment has @deprecated (an old alias: kept out of the public entries). */
  deprecated: boolean;
}

export interface ApiEntry {
  /** The import specifier: `update-hil`, `update-hil/clients`, ... */
  specifier: string;
  /** Its source, relative to the project: harness/index.ts, ... */
  source: string;
  summary: string;
  exports: ApiExport[];
}

/** The exports map's entries (all but ./package.json) with the source file each is built from. */
export function exportEntries(root: string): { specifier: string; source: string }[] {
  const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as {
    name: string;
    exports: Record<string, string | { default: string }>;
  };
  return Object.entries(pkg.exports)
    .filter(([key]) => key !== "./package.json")
    .map(([key, target]) => {
      const js = typeof target === "string" ? target : target.default;
      const m = /^\.\/dist\/(.+)\.js$/.exec(js);
      if (!m) throw new Error(`package.json exports["${key}"]: expected ./dist/<path>.js, got ${js}`);
      return { specifier: key === "." ? pkg.name : `${pkg.name}/${key.slice(2)}`, source: `${m[1]}.ts` };
    });
}

/** One line of prose: links unwrapped, whitespace collapsed, cut after the first sentence. */
function firstSentence(text: string): string {
  const flat = text
    .replace(/```[\s\S]*/, "")
    .replace(/\{@link\s+([^}|\s]+)(?:[\s|]+([^}]*))?\}/g, (_, target: string, label?: string) =>
      label ? label : target,
    )
    .replace(/\s+/g, " ")
    .trim();
  const end = flat.search(/(?<!\be\.g|\bi\.e)\.(\s|$)/);
  let line = (end >= 0 ? flat.slice(0, end) : flat).replace(/[\s:,;]+$/, "");
  if (line.length > 200) line = `${line.slice(0, line.lastIndexOf(" ", 197))} …`;
  return line.replace(/\|/g, "\\|");
}

function kindOf(symbol: ts.Symbol): string {
  const f = symbol.flags;
  if (f & ts.SymbolFlags.Class) return "class";
  if (f & ts.SymbolFlags.Function) return "function";
  if (f & ts.SymbolFlags.Enum) return "enum";
  if (f & ts.SymbolFlags.Variable) return "const";
  if (f & ts.SymbolFlags.Interface) return "interface";
  if (f & ts.SymbolFlags.TypeAlias) return "type";
  if (f & (ts.SymbolFlags.ValueModule | ts.SymbolFlags.NamespaceModule)) return "namespace";
  return "export";
}

/** The module's own doc comment: the first one before its first export (imports may come first). */
function moduleSummary(file: ts.SourceFile): string {
  const text = file.getFullText();
  const head = text.slice(0, Math.max(0, text.search(/^export /m)));
  const c = /\/\*\*([\s\S]*?)\*\//.exec(head);
  if (!c?.[1]) return "";
  return firstSentence(
    c[1]
      .split("\n")
      .map((l) => l.replace(/^\s*\* ?/, ""))
      .join(" "),
  );
}

/** Every export of every entry, sorted by name. */
export function apiSurface(root: string): ApiEntry[] {
  const entries = exportEntries(root);
  const program = ts.createProgram(
    entries.map((e) => join(root, e.source)),
    {
      module: ts.ModuleKind.NodeNext,
      moduleResolution: ts.ModuleResolutionKind.NodeNext,
      target: ts.ScriptTarget.ES2023,
      types: ["node", "mocha", "w3c-web-usb"],
      skipLibCheck: true,
      noEmit: true,
    },
  );
  const checker = program.getTypeChecker();
  return entries.map(({ specifier, source }) => {
    const file = program.getSourceFile(join(root, source));
    const module = file && checker.getSymbolAtLocation(file);
    if (!file || !module) throw new Error(`${source}: not a module`);
    const exports = checker
      .getExportsOfModule(module)
      .map((symbol) => {
        const target = symbol.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(symbol) : symbol;
        const kind = kindOf(target);
        const declared = target.declarations?.[0]?.getSourceFile();
        let summary = firstSentence(ts.displayPartsToString(target.getDocumentationComment(checker)));
        if (
          !summary &&
          kind === "namespace" &&
          target.valueDeclaration &&
          ts.isSourceFile(target.valueDeclaration)
        )
          summary = moduleSummary(target.valueDeclaration);
        if (!summary && declared) {
          const of = moduleSummary(declared);
          const where = declared.fileName.slice(root.length + 1);
          summary = of ? `Part of ${where}: ${of}` : `See ${where}`;
        }
        const deprecated = target.getJsDocTags(checker).some((t) => t.name === "deprecated");
        return {
          name: symbol.name,
          kind,
          summary: API_NOTES[`${specifier} ${symbol.name}`] ?? summary,
          deprecated,
        };
      })
      .sort((a, b) => a.name.localeCompare(b.name));
    return { specifier, source, summary: API_NOTES[specifier] ?? moduleSummary(file), exports };
  });
}

/** docs/api.md. */
export function renderApiDoc(entries: readonly ApiEntry[]): string {
  const lines = [
    "# Public API",
    "",
    "Everything a project that installs update-hil may import: the entry points of the package's",
    "`exports` map and every name each one exports, with what it is for. Nothing else is",
    "importable (Node refuses other paths with `ERR_PACKAGE_PATH_NOT_EXPORTED`), so whatever is",
    "not listed here may change in any release. Changes to this list are recorded in",
    "[CHANGELOG.md](../CHANGELOG.md).",
    "",
    "Generated from the sources' doc comments by `npm run api`; `test/package/api-doc.spec.ts`",
    "fails when this page and the exports disagree.",
    "",
    "| entry point | what it is for |",
    "| --- | --- |",
    ...entries.map((e) => `| [\`${e.specifier}\`](#${anchor(e.specifier)}) | ${e.summary} |`),
  ];
  for (const e of entries) {
    lines.push("", `## \`${e.specifier}\``, "", `${e.summary} (source: \`${e.source}\`)`, "");
    lines.push("| export | kind | what it is for |", "| --- | --- | --- |");
    for (const x of e.exports) lines.push(`| \`${x.name}\` | ${x.kind} | ${x.summary} |`);
  }
  return `${lines.join("\n")}\n`;
}

/** GitHub's heading anchor of `` `update-hil/protocol/dfu` ``. */
function anchor(specifier: string): string {
  return specifier.toLowerCase().replace(/[^a-z0-9 -]/g, "");
}

/** The entry point and export names docs/api.md lists, as `specifier name` strings. */
export function documentedNames(markdown: string): string[] {
  const names: string[] = [];
  let entry: string | undefined;
  for (const line of markdown.split("\n")) {
    const heading = /^## `([^`]+)`$/.exec(line);
    if (heading) entry = heading[1];
    const row = /^\| `([^`]+)` \| [a-z]+ \|/.exec(line);
    if (row && entry) names.push(`${entry} ${row[1]}`);
  }
  return names;
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split("/").pop() ?? "")) {
  const root = join(import.meta.dirname, "..");
  writeFileSync(join(root, "docs", "api.md"), renderApiDoc(apiSurface(root)));
  console.log("wrote docs/api.md");
}
