import * as allure from "allure-js-commons";

/**
 * The document clause a test checks ("AN5185 Table 3", "DFU 1.1 state table: dfuDNBUSY").
 * Recorded as the `clause` label, from which the qualification matrix is built; call it
 * first thing in the `it`.
 */
export async function clause(...refs: string[]): Promise<void> {
  for (const ref of refs) await allure.label("clause", ref);
}
