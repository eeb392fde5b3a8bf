/**
 * The end of `hil run` after failures: each failed test with its reproduction bundle's id and
 * the `hil replay` command that reruns it, so the next step is on the screen, not in a report.
 */
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";

/** What the summary needs of a failed Mocha test or hook. */
export interface FailedTest {
  fullTitle(): string;
}

/** What the summary needs of a Mocha runner. */
export interface FailureSource {
  on(event: "fail", listener: (test: FailedTest) => void): unknown;
}

/** Collects the full titles of the tests (and hooks) that fail on `runner`, in order. */
export function collectFailures(runner: FailureSource): string[] {
  const failed: string[] = [];
  runner.on("fail", (test) => {
    const title = test.fullTitle();
    if (!failed.includes(title)) failed.push(title);
  });
  return failed;
}

/** Bundle ids under `dir` by the full title of their test (repro.json's `test`). */
async function bundlesByTest(dir: string): Promise<Map<string, string>> {
  const byTest = new Map<string, string>();
  for (const id of (await readdir(dir).catch(() => [] as string[])).sort()) {
    try {
      const bundle = JSON.parse(await readFile(join(dir, id, "repro.json"), "utf8")) as { test?: unknown };
      if (typeof bundle.test === "string") byTest.set(bundle.test, id);
    } catch {
      // not a bundle (or a half-written one): that test is listed without an id
    }
  }
  return byTest;
}

/** The lines that close a run with failures (none when nothing failed). */
export async function failureSummary(failed: readonly string[], bundleDir: string): Promise<string[]> {
  if (failed.length === 0) return [];
  const ids = await bundlesByTest(bundleDir);
  const lines = [`failed (${failed.length}):`];
  for (const title of failed) {
    lines.push(`  ${title}`);
    const id = ids.get(title);
    lines.push(
      id
        ? `    repro ${id}: npx hil replay ${id}`
        : "    no repro bundle (it failed outside a board test: a hook, a suite's setup)",
    );
  }
  return lines;
}
