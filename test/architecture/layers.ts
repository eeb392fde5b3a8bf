/**
 * Holds an import graph to a layer table: no arrow a folder's row does not allow, no cycle
 * between folders, and an allow-list of arrows still being removed that fails as soon as
 * one of them is gone. The table itself is in layers.spec.ts.
 */
import type { ImportEdge } from "./imports.js";

/**
 * What each folder may import, besides itself. A name is a folder (`harness/<name>/`, or
 * `suites`, `test`, ... at the top); `devices/registry.ts` allows that one module only;
 * "*" allows everything.
 */
export type LayerTable = Readonly<Record<string, readonly string[]>>;

/** An arrow the table does not allow but the code still has: `from` (a file) imports something under `to`. */
export interface KnownArrow {
  from: string;
  to: string;
  why: string;
}

export interface LayerReport {
  /** Arrows the table does not allow and no KNOWN entry covers, one line each. */
  violations: string[];
  /** KNOWN entries no import matches any more: delete them. */
  stale: string[];
  /** Folders that import each other, directly or round a loop, by arrows not on the known list. */
  cycles: string[][];
}

/** The folder a project file belongs to, as the table names it. */
export function folderOf(path: string): string {
  const parts = path.split("/");
  if (parts[0] !== "harness") return parts[0]!;
  if (parts.length > 2) return parts[1]!;
  return parts[1] === "index.ts" ? "index" : path; // a new module at harness/ top: not in the table
}

function allowed(from: string, to: string, rules: LayerTable): boolean {
  const may = rules[folderOf(from)];
  if (!may) return false;
  const target = folderOf(to);
  const inHarness = to.startsWith("harness/") ? to.slice("harness/".length) : undefined;
  return may.some((m) => m === "*" || m === target || m === inHarness);
}

function covers(known: KnownArrow, edge: ImportEdge): boolean {
  return (
    edge.from === known.from && (edge.to === known.to || edge.to.startsWith(known.to.replace(/\/?$/, "/")))
  );
}

/** Holds `edges` to `rules`, with `known` arrows tolerated (and checked for staleness). */
export function checkLayers(
  edges: readonly ImportEdge[],
  known: readonly KnownArrow[],
  rules: LayerTable,
): LayerReport {
  const violations: string[] = [];
  const graph = new Map<string, Set<string>>();
  for (const edge of edges) {
    const a = folderOf(edge.from);
    const b = folderOf(edge.to);
    if (a === b || known.some((k) => covers(k, edge))) continue; // a known arrow is reported as a stale entry or not at all
    graph.set(a, (graph.get(a) ?? new Set()).add(b));
    if (allowed(edge.from, edge.to, rules)) continue;
    const why = rules[a]
      ? `${a} may import ${rules[a].join(", ") || "nothing"}`
      : `${a} is not in the layer table`;
    violations.push(`${edge.from}:${edge.line} -> ${edge.to} (${why})`);
  }
  const stale = known.filter((k) => !edges.some((e) => covers(k, e))).map((k) => `${k.from} -> ${k.to}`);
  return { violations, stale, cycles: stronglyConnected(graph).filter((c) => c.length > 1) };
}

/** Tarjan's strongly connected components, each sorted by name. */
function stronglyConnected(graph: ReadonlyMap<string, ReadonlySet<string>>): string[][] {
  const nodes = new Set([...graph.keys(), ...[...graph.values()].flatMap((s) => [...s])]);
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const out: string[][] = [];
  const visit = (v: string) => {
    index.set(v, index.size);
    low.set(v, index.get(v)!);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) !== index.get(v)) return;
    const component: string[] = [];
    let w: string;
    do {
      w = stack.pop()!;
      onStack.delete(w);
      component.push(w);
    } while (w !== v);
    out.push(component.sort());
  };
  for (const v of nodes) if (!index.has(v)) visit(v);
  return out;
}
