import * as allure from "allure-js-commons";
import { catalogueSync, findClause, SEVERITIES, type Severity } from "./matrix.js";

/**
 * Where links to the source documents point: `HIL_DOCS_URL` (e.g. the lab's copy of the
 * documents on an intranet), else `../shared`, the documents' place beside the project.
 */
export function docsBase(env: NodeJS.ProcessEnv = process.env): string {
  return (env.HIL_DOCS_URL ?? "../shared").replace(/\/+$/, "");
}

/** What `clause(...)` puts on a result, also for tests of it: labels and links. */
export function clauseEvidence(refs: readonly string[]): {
  labels: { name: string; value: string }[];
  links: { url: string; name: string }[];
} {
  const catalogue = catalogueSync();
  const labels = refs.map((ref) => ({ name: "clause", value: ref }));
  const links: { url: string; name: string }[] = [];
  let severity: Severity | undefined;
  for (const ref of refs) {
    const found = findClause(catalogue, ref);
    if (!found) continue;
    if (severity === undefined || SEVERITIES.indexOf(found.severity) < SEVERITIES.indexOf(severity))
      severity = found.severity;
    for (const path of found.document.source ?? []) {
      const url = `${docsBase()}/${path}`;
      if (!links.some((l) => l.url === url)) links.push({ url, name: `${found.document.document}: ${path}` });
    }
  }
  if (severity) labels.push({ name: "severity", value: severity });
  return { labels, links };
}

/**
 * The document clause a test checks ("AN5185 Table 3", "DFU 1.1 state table: dfuDNBUSY").
 * Recorded as the `clause` label, from which the qualification matrix is built, with the
 * severity the catalogue (clauses.yaml) gives it (the gate blocks on critical failures) and
 * links to the source documents the clause comes from. Call it first thing in the `it`.
 */
export async function clause(...refs: string[]): Promise<void> {
  const { labels, links } = clauseEvidence(refs);
  await allure.labels(...labels);
  if (links.length) await allure.links(...links);
}
