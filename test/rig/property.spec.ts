import { readFileSync } from "node:fs";
import { join } from "node:path";
import { expect } from "chai";
import fc from "fast-check";
import { parse, stringify } from "yaml";
import { parseRigFile, projectRoot, RigFileError } from "../../harness/rig/load.js";

const FILE = "rigs/fuzz.yaml";
const SOURCES = [
  "rigs/emulated.yaml",
  "rigs/examples/p-nucleo-wb55.yaml",
  "rigs/examples/tkey-rack.yaml",
].map((f) => readFileSync(join(projectRoot(), f), "utf8"));

function lineCount(text: string): number {
  const lines = text.split("\n");
  if (lines.length > 1 && lines.at(-1) === "") lines.pop();
  return lines.length;
}

/** The property: valid, or a RigFileError whose every problem reads `file:line path: message`, line in the file. */
function validOrWellReported(text: string): void {
  try {
    parseRigFile(text, FILE);
    return;
  } catch (e) {
    if (!(e instanceof RigFileError)) throw e;
    const [header, ...lines] = e.message.split("\n");
    const n = e.problems.length;
    expect(n).to.be.greaterThan(0);
    expect(header).to.equal(`invalid rig file ${FILE} (${n} problem${n === 1 ? "" : "s"}):`);
    expect(lines).to.have.length(n);
    lines.forEach((line, i) => {
      const match = /^rigs\/fuzz\.yaml:(\d+) (\S.*?): (\S.*)$/.exec(line);
      expect(match, line).to.not.equal(null);
      const at = Number(match![1]);
      expect(at, line).to.be.within(1, lineCount(text));
      expect(e.problems[i]!.line).to.equal(at);
    });
  }
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Path = (string | number)[];

function paths(value: Json, prefix: Path = []): Path[] {
  const here = prefix.length > 0 ? [prefix] : [];
  if (Array.isArray(value)) return [...here, ...value.flatMap((v, i) => paths(v, [...prefix, i]))];
  if (value !== null && typeof value === "object") {
    return [...here, ...Object.entries(value).flatMap(([k, v]) => paths(v, [...prefix, k]))];
  }
  return here;
}

type Container = Json[] | { [key: string]: Json };

function parentOf(root: Json, path: Path): Container {
  let node = root;
  for (const segment of path.slice(0, -1)) node = (node as Record<string | number, Json>)[segment]!;
  return node as Container;
}

const interesting = fc.constantFrom<Json>(
  null,
  0,
  -1,
  1.5,
  65536,
  "",
  "0483",
  "/dev/ttyACM0",
  "/dev/serial/by-id/usb-x-if00",
  "sim-nor",
  "uhubctl",
  "power-cut",
  "flash-faults",
  true,
  [],
  {},
  { backend: "relay" },
);
const value: fc.Arbitrary<Json> = fc.oneof(interesting, fc.jsonValue({ maxDepth: 2 }) as fc.Arbitrary<Json>);
const key = fc.oneof(
  fc.constantFrom(
    "id",
    "family",
    "power",
    "backend",
    "port",
    "chanel",
    "byId",
    "emulated",
    "usb",
    "serial",
    "<<",
  ),
  fc.string({ maxLength: 8 }),
);

const mutation = fc.record({
  pick: fc.nat(),
  op: fc.constantFrom("delete", "replace", "add", "rename"),
  value,
  key,
});

function mutate(root: Json, original: { pick: number; op: string; value: Json; key: string }): Json {
  // A copy of the drawn value: constantFrom hands out the same object every run, and a later
  // mutation inside the document would change that shared constant (until it holds itself).
  const m = { ...original, value: structuredClone(original.value) };
  const all = paths(root);
  if (all.length === 0) return m.value;
  const path = all[m.pick % all.length]!;
  const parent = parentOf(root, path);
  const last = path.at(-1)!;
  if (Array.isArray(parent)) {
    const i = last as number;
    if (m.op === "delete") parent.splice(i, 1);
    else if (m.op === "add") parent.splice(i, 0, m.value);
    else parent[i] = m.value;
    return root;
  }
  const k = String(last);
  if (m.op === "delete") delete parent[k];
  else if (m.op === "replace") parent[k] = m.value;
  else if (m.op === "add") parent[m.key] = m.value;
  else {
    const moved = parent[k]!;
    delete parent[k];
    parent[m.key] = moved;
  }
  return root;
}

const edit = fc.record({
  at: fc.nat(),
  op: fc.constantFrom("delete", "insert", "duplicate-line", "swap-lines"),
  length: fc.integer({ min: 1, max: 24 }),
  text: fc.array(
    fc.constantFrom(
      ":",
      "-",
      " ",
      "  ",
      "\n",
      "[",
      "]",
      "{",
      "}",
      "'",
      '"',
      "#",
      "&a",
      "*a",
      "!",
      "\t",
      "x",
      "1",
      ",",
    ),
    {
      minLength: 1,
      maxLength: 6,
    },
  ),
  other: fc.nat(),
});

function applyEdit(
  text: string,
  e: { at: number; op: string; length: number; text: string[]; other: number },
): string {
  const at = e.at % (text.length + 1);
  if (e.op === "delete") return text.slice(0, at) + text.slice(at + e.length);
  if (e.op === "insert") return text.slice(0, at) + e.text.join("") + text.slice(at);
  const lines = text.split("\n");
  const i = e.at % lines.length;
  const j = e.other % lines.length;
  if (e.op === "duplicate-line") lines.splice(i, 0, lines[i]!);
  else [lines[i], lines[j]] = [lines[j]!, lines[i]!];
  return lines.join("\n");
}

describe("rig files: mutations are valid or reported as file:line path: message", () => {
  it("holds for mutated documents (values replaced, keys removed, added, renamed)", () => {
    fc.assert(
      fc.property(
        fc.nat(SOURCES.length - 1),
        fc.array(mutation, { minLength: 1, maxLength: 3 }),
        (source, ms) => {
          let doc = parse(SOURCES[source]!, { merge: true }) as Json;
          for (const m of ms) doc = mutate(doc, m);
          validOrWellReported(stringify(doc));
        },
      ),
      { numRuns: 400 },
    );
  });

  it("holds for text edits (characters deleted or inserted, lines duplicated or swapped)", () => {
    fc.assert(
      fc.property(
        fc.nat(SOURCES.length - 1),
        fc.array(edit, { minLength: 1, maxLength: 3 }),
        (source, edits) => {
          let text = SOURCES[source]!;
          for (const e of edits) text = applyEdit(text, e);
          validOrWellReported(text);
        },
      ),
      { numRuns: 400 },
    );
  });
});
