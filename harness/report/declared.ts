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
import { join } from "node:path";
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

/** The tests the suites under `root`/suites declare, loaded against the emulated rack. */
export async function collectDeclaredTests(root = projectRoot()): Promise<DeclaredTest[]> {
  const dir = await mkdtemp(join(tmpdir(), "hil-declared-"));
  const out = join(dir, "declared.json");
  try {
    await execa(
      process.execPath,
      [
        "--import",
        createRequire(import.meta.url).resolve("tsx"),
        "--no-experimental-require-module",
        join(root, "harness", "mocha", "declared-main.ts"),
      ],
      {
        cwd: root,
        env: {
          HIL_DECLARED_OUT: out,
          HIL_RIG: join(root, "rigs", "emulated.yaml"),
          HIL_FAULTS: "",
          HIL_QUARANTINE: "",
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
