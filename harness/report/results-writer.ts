/**
 * Where a run's Allure results go: the files allure-js-commons' FileSystemWriter writes, by
 * the same names with the same bytes, each published by a rename so a reader never sees half
 * of one, but without an fsync per file. A profile of `hil run` on the default rack spent
 * 30 % of its time in those fsyncs (one per result and per attachment); results are rebuilt
 * by the next run, so surviving a machine crash buys nothing.
 */
import { randomUUID } from "node:crypto";
import { copyFileSync, mkdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Globals, TestResult, TestResultContainer } from "allure-js-commons";
import type { Category, EnvironmentInfo } from "allure-js-commons/sdk";
import { stringifyEnvInfo, type Writer } from "allure-js-commons/sdk/reporter";

export class ResultsWriter implements Writer {
  constructor(readonly resultsDir: string) {}

  writeResult(result: TestResult): void {
    this.#publish(`${result.uuid}-result.json`, (to) => writeFileSync(to, JSON.stringify(result), "utf-8"));
  }

  writeGroup(result: TestResultContainer): void {
    this.#publish(`${result.uuid}-container.json`, (to) =>
      writeFileSync(to, JSON.stringify(result), "utf-8"),
    );
  }

  writeAttachment(distFileName: string, content: Buffer): void {
    this.#publish(distFileName, (to) => writeFileSync(to, content));
  }

  writeAttachmentFromPath(distFileName: string, from: string): void {
    this.#publish(distFileName, (to) => copyFileSync(from, to));
  }

  writeEnvironmentInfo(info: EnvironmentInfo): void {
    this.#publish("environment.properties", (to) => writeFileSync(to, stringifyEnvInfo(info)));
  }

  writeCategoriesDefinitions(categories: Category[]): void {
    this.#publish("categories.json", (to) => writeFileSync(to, JSON.stringify(categories), "utf-8"));
  }

  writeGlobals(distFileName: string, info: Globals): void {
    this.#publish(distFileName, (to) => writeFileSync(to, JSON.stringify(info), "utf-8"));
  }

  #publish(name: string, write: (path: string) => void): void {
    mkdirSync(this.resultsDir, { recursive: true });
    const temp = join(this.resultsDir, `.allure-write-${randomUUID()}.tmp`);
    try {
      write(temp);
      renameSync(temp, join(this.resultsDir, name));
    } catch (e) {
      rmSync(temp, { force: true });
      throw e;
    }
  }
}
