import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { expect } from "chai";
import ts from "typescript";
import { projectRoot } from "../../harness/rig/load.js";

/** Typed arrays and buffers: what `deep.equal` prints as an unreadable wall of numbers. */
const BYTE_TYPES = /^(Uint8Array|Uint8ClampedArray|Int8Array|Buffer|ArrayBuffer)(<|$)/;

/**
 * Where `files` compare byte arrays with chai's deep equality (`.deep.equal`, `.eql`,
 * `.deep.eq`, `.deep.equals`): the subject of `expect(...)` or the expected value is typed as
 * a byte array. Read with the type checker, so a helper returning Uint8Array counts as well.
 */
function byteDeepEquals(files: readonly string[], options: ts.CompilerOptions): string[] {
  const program = ts.createProgram(files, { ...options, noEmit: true });
  const checker = program.getTypeChecker();
  const isBytes = (node: ts.Expression) => {
    const type = checker.getTypeAtLocation(node);
    const parts = type.isUnion() ? type.types : [type];
    return parts.some((t) => BYTE_TYPES.test(checker.typeToString(t)));
  };
  /** The argument of the `expect(...)` call at the root of an assertion chain. */
  const subjectOf = (node: ts.Expression): ts.Expression | undefined => {
    let at: ts.Expression = node;
    while (ts.isPropertyAccessExpression(at) || ts.isCallExpression(at)) {
      if (ts.isCallExpression(at) && ts.isIdentifier(at.expression) && at.expression.text === "expect")
        return at.arguments[0];
      at = at.expression;
    }
    return undefined;
  };
  const found: string[] = [];
  for (const file of files) {
    const source = program.getSourceFile(file);
    if (!source) continue;
    const visit = (node: ts.Node): void => {
      if (ts.isCallExpression(node) && ts.isPropertyAccessExpression(node.expression)) {
        const method = node.expression.name.text;
        const chain = node.expression.expression;
        const deep =
          method === "eql" ||
          (["equal", "equals", "eq"].includes(method) &&
            ts.isPropertyAccessExpression(chain) &&
            chain.name.text === "deep");
        const subject = deep ? subjectOf(chain) : undefined;
        const expected = node.arguments[0];
        if (subject && ((expected && isBytes(expected)) || isBytes(subject))) {
          const { line } = source.getLineAndCharacterOfPosition(node.getStart());
          found.push(`${file.slice(projectRoot().length + 1)}:${line + 1}: ${node.getText().split("\n")[0]}`);
        }
      }
      ts.forEachChild(node, visit);
    };
    visit(source);
  }
  return found;
}

async function tsFiles(dir: string): Promise<string[]> {
  return (await readdir(dir, { recursive: true })).filter((f) => f.endsWith(".ts")).map((f) => join(dir, f));
}

function compilerOptions(): ts.CompilerOptions {
  const path = join(projectRoot(), "tsconfig.json");
  const { config } = ts.readConfigFile(path, ts.sys.readFile);
  return ts.parseJsonConfigFileContent(config, ts.sys, projectRoot()).options;
}

describe("suites: byte arrays are compared with equalBytes / hold, never deep.equal", function () {
  this.timeout(120_000);

  it("finds deep.equal / eql on byte arrays, typed through helpers, and nothing else", async () => {
    const fixture = join(projectRoot(), "test", "report", "fixtures", "byte-asserts.fixture.ts");
    const found = byteDeepEquals([fixture], compilerOptions()).map((f) => f.replace(/^.*?:(\d+):.*$/, "$1"));
    // The fixture marks each line that must be found with "// found".
    const { readFile } = await import("node:fs/promises");
    const marked = (await readFile(fixture, "utf8"))
      .split("\n")
      .flatMap((line, i) => (line.includes("// found") ? [String(i + 1)] : []));
    expect(marked.length).to.be.greaterThan(3);
    expect(found).to.deep.equal(marked);
  });

  it("no suite compares byte arrays with deep.equal (use expect(flash).to.hold(image) or equalBytes)", async () => {
    const files = await tsFiles(join(projectRoot(), "suites"));
    expect(byteDeepEquals(files, compilerOptions())).to.deep.equal([]);
  });
});
