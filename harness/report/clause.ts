import * as allure from "allure-js-commons";
import {
  type Citation,
  catalogueSync,
  citationLinks,
  citationOf,
  findClause,
  SEVERITIES,
  type Severity,
} from "./catalogue.js";

export { docsMirror } from "./catalogue.js";

/** What `clause(...)` puts on a result, also for tests of it: labels and links. */
export function clauseEvidence(
  refs: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
): {
  labels: { name: string; value: string }[];
  links: { url: string; name: string }[];
  citations: Citation[];
} {
  const catalogue = catalogueSync();
  const labels = refs.map((ref) => ({ name: "clause", value: ref }));
  const links: { url: string; name: string }[] = [];
  const citations: Citation[] = [];
  let severity: Severity | undefined;
  for (const ref of refs) {
    const found = findClause(catalogue, ref);
    if (!found) continue;
    if (severity === undefined || SEVERITIES.indexOf(found.severity) < SEVERITIES.indexOf(severity))
      severity = found.severity;
    const citation = citationOf(found.document, ref);
    if (!citation) continue;
    citations.push(citation);
    for (const link of citationLinks(citation, env))
      if (!links.some((l) => l.url === link.url && l.name === link.name)) links.push(link);
  }
  if (severity) labels.push({ name: "severity", value: severity });
  return { labels, links, citations };
}

/**
 * The document clause a test checks ("AN5185 Table 3", "DFU 1.1 state table: dfuDNBUSY").
 * Recorded as the `clause` label, from which the qualification matrix is built, with the
 * severity the catalogue (clauses.yaml) gives it (the gate blocks on critical failures) and
 * a link per clause citing the document by name, revision and section at its public
 * address. Call it first thing in the `it`.
 */
export async function clause(...refs: string[]): Promise<void> {
  const { labels, links } = clauseEvidence(refs);
  await allure.labels(...labels);
  if (links.length) await allure.links(...links);
}

/** Clauses declared by {@link covers} for the next `it`, while {@link declaringTests} runs. */
let pending: readonly string[] | undefined;
let declaring = false;

/**
 * Declares the document clauses the next `it` checks, where it is defined (inside
 * forEachBoard's body):
 *
 * ```ts
 * covers("AN3155: Go (0x21)");
 * it("Go starts the application", async () => { ... });
 * ```
 *
 * forEachBoard labels the result with them (and their severity and citations) before the
 * test runs, so a test that never runs (its board quarantined, its lease timed out) still
 * lands in the matrix with its clauses, and the matrix knows which clauses have a test
 * without a run (`hil report` loads the suites to ask).
 */
export function covers(...refs: string[]): void {
  const text = refs.map((r) => JSON.stringify(r)).join(", ");
  if (!declaring) throw new Error(`covers(${text}) belongs right before an it(...) inside forEachBoard`);
  if (pending) throw new Error(`covers(${text}) follows covers(...) with no it(...) between them`);
  if (refs.length === 0) throw new Error("covers() names no clause");
  pending = Object.freeze([...refs]);
}

type MochaIt = Mocha.TestFunction;

/**
 * Runs `define` (forEachBoard's body) with `it` taking the clauses {@link covers} declared
 * just before it; returns every test it defined with them (none declared: an empty list). `it` is Mocha's global, swapped for the call only.
 */
export function declaringTests(define: () => void): Map<Mocha.Test, readonly string[]> {
  const declared = new Map<Mocha.Test, readonly string[]>();
  const g = globalThis as unknown as { it: MochaIt };
  const original = g.it;
  const declaringIt = Object.assign(function (this: unknown, ...args: Parameters<MochaIt>) {
    const refs = pending;
    pending = undefined;
    const test = (original as (...a: unknown[]) => Mocha.Test).apply(this, args);
    declared.set(test, refs ?? []);
    return test;
  }, original) as MochaIt;
  const outer = declaring;
  g.it = declaringIt;
  declaring = true;
  try {
    define();
    if (pending)
      throw new Error(`covers(${pending.map((r) => JSON.stringify(r)).join(", ")}) has no it(...) after it`);
  } finally {
    g.it = original;
    declaring = outer;
    pending = undefined;
  }
  return declared;
}
