/**
 * Which clauses have a test at all, from the suites themselves rather than from a run's
 * results: a clause no test declares is a gap; one a test declares but the run did not
 * reach (--grep, --shard, no board of its family) is "not run". `hil report` loads every
 * suite on the emulated rack (every family has a board there) in a child process that
 * defines the tests without running any (declared-main.ts) and reads what forEachBoard
 * recorded.
 */
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, extname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { execa } from "execa";
import { projectRoot } from "../seams/paths.js";

/** A test forEachBoard defined, the family it runs on and the clauses it declared. */
export interface DeclaredTest {
  test: string;
  family: string;
  clauses: readonly string[];
}

/** How long loading every suite may take (it is a few seconds). */
const LOAD_TIMEOUT_MS = 120_000;

/** How the suite files reach the child: one path per line (paths may hold commas or colons). */
export const SUITE_FILES_ENV = "HIL_SUITE_FILES";

/**
 * The tests the given suite files declare, loaded against the emulated rack. The child is
 * this module's sibling in harness/mocha (its .ts source in a checkout, its compiled .js in
 * the package), with tsx registered so a team's TypeScript suites load as they are.
 */
export async function collectDeclaredTests(files: readonly string[]): Promise<DeclaredTest[]> {
  const dir = await mkdtemp(join(tmpdir(), "hil-declared-"));
  const out = join(dir, "declared.json");
  const self = fileURLToPath(import.meta.url);
  const root = projectRoot();
  try {
    await execa(
      process.execPath,
      [
        "--import",
        pathToFileURL(createRequire(import.meta.url).resolve("tsx")).href,
        "--no-experimental-require-module",
        join(dirname(self), "..", "mocha", `declared-main${extname(self)}`),
      ],
      {
        cwd: root,
        env: {
          HIL_DECLARED_OUT: out,
          HIL_RIG: join(root, "rigs", "emulated.yaml"),
          HIL_FAULTS: "",
          HIL_QUARANTINE: "",
          [SUITE_FILES_ENV]: files.join("\n"),
        },
        timeout: LOAD_TIMEOUT_MS,
        stdio: ["ignore", "ignore", "pipe"],
      },
    );
    return JSON.parse(await readFile(out, "utf8")) as DeclaredTest[];
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
