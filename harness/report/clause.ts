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
