/**
 * Runs a fixture suite in a child mocha with allure-mocha writing into `dir`, as a report
 * reader's run would, and returns once it has written its results. The fixtures fail some
 * tests on purpose: mocha's exit code is then the number of failures, which must be
 * `failing`.
 */
import { execFile } from "node:child_process";
import { readdir, readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { join } from "node:path";
import { promisify } from "node:util";
import { projectRoot } from "../../harness/rig/load.js";

export async function runAllureFixture(
  fixture: string,
  dir: string,
  opts: { failing: number; env?: Record<string, string> },
): Promise<void> {
  const mochaBin = createRequire(import.meta.url).resolve("mocha/bin/mocha.js");
  await promisify(execFile)(
    process.execPath,
    [
      "--import",
      "tsx",
      mochaBin,
      "--no-config",
      "--reporter",
      "allure-mocha",
      "--reporter-option",
      `resultsDir=${dir}`,
      fixture,
    ],
    {
      cwd: projectRoot(),
      env: {
        ...process.env,
        NO_COLOR: "1",
        HIL_RIG: "",
        HIL_FAULTS: "",
        HIL_SEED: "",
        HIL_REPRO_DIR: join(dir, "repro"),
        ...opts.env,
      },
    },
  ).catch((e: { code?: number }) => {
    if (e.code !== opts.failing) throw e;
  });
}

/** The result files in `dir`, parsed. */
export async function readRawResults<T>(dir: string): Promise<T[]> {
  const files = (await readdir(dir)).filter((f) => f.endsWith("-result.json"));
  return Promise.all(files.map(async (f) => JSON.parse(await readFile(join(dir, f), "utf8")) as T));
}
