import { readdir } from "node:fs/promises";
import { join, relative } from "node:path";
import { pathToFileURL } from "node:url";
import { expect } from "chai";
import { DfuError } from "../../harness/clients/dfu/index.js";
import { FusClientError } from "../../harness/clients/fus/index.js";
import { SkipScenario } from "../../harness/lab/errors.js";
import {
  categoryOf,
  categoryOfClass,
  classifyError,
  ERROR_CATEGORIES,
  REPORT_CATEGORY_OF,
  statusOfCategory,
} from "../../harness/report/categories.js";
import { projectRoot } from "../../harness/rig/load.js";
import { ERROR_CATEGORY_NAMES, HilError } from "../../harness/seams/errors.js";
import { TimeoutError } from "../../harness/transport/clock.js";
import { ReadTimeoutError } from "../../harness/transport/errors.js";

/** Every .ts module under harness/ (declaration files aside). */
async function harnessModules(): Promise<string[]> {
  const root = join(projectRoot(), "harness");
  const entries = await readdir(root, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile() && e.name.endsWith(".ts") && !e.name.endsWith(".d.ts"))
    .map((e) => join(e.parentPath, e.name))
    .sort();
}

/** Exported Error classes that are not failures, so not HilErrors, each with why. */
const CONTROL_FLOW = new Map<unknown, string>([
  [
    SkipScenario,
    "a skip request caught by the suite hook; the table files it as infrastructure if it escapes",
  ],
]);

type ErrorClass = abstract new (...args: never) => Error;

/** Every exported Error class under harness/, by "file: name". */
async function exportedErrorClasses(): Promise<Map<string, ErrorClass>> {
  const classes = new Map<string, ErrorClass>();
  for (const file of await harnessModules()) {
    const exports = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
    for (const [name, value] of Object.entries(exports))
      if (typeof value === "function" && value.prototype instanceof Error)
        classes.set(`${relative(projectRoot(), file)}: ${name}`, value as ErrorClass);
  }
  return classes;
}

describe("report: one category for every error class", function () {
  this.timeout(60_000);

  it("every Error class a harness module exports resolves to a category", async () => {
    const modules = await harnessModules();
    expect(modules.length).to.be.above(100);
    const classes = new Map<string, string>();
    for (const file of modules) {
      const exports = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
      for (const [name, value] of Object.entries(exports))
        if (typeof value === "function" && value.prototype instanceof Error)
          classes.set(`${relative(projectRoot(), file)}: ${name}`, String(categoryOfClass(value)));
    }
    // The scan finds the client, transport, rig and emulator errors (there are 50-odd).
    expect(classes.size).to.be.above(40);
    const unmapped = [...classes].filter(([, c]) => c === "undefined").map(([k]) => k);
    expect(unmapped, "exported Error classes without a category in failure-categories.mjs").to.deep.equal([]);
  });

  it("every exported Error class is a HilError, or control flow with a reason", async () => {
    const classes = await exportedErrorClasses();
    expect(classes.size).to.be.above(40);
    const outside = [...classes]
      .filter(([, cls]) => !(cls.prototype instanceof HilError) && cls !== HilError && !CONTROL_FLOW.has(cls))
      .map(([k]) => k);
    expect(outside, "exported Error classes outside the HilError tree").to.deep.equal([]);
  });

  it("each HilError class declares a category, and the name table files it the same way", async () => {
    const disagree: string[] = [];
    for (const [where, cls] of await exportedErrorClasses()) {
      if (!(cls.prototype instanceof HilError) && cls !== HilError) continue;
      const declared = (cls as typeof HilError).category;
      expect(ERROR_CATEGORY_NAMES, `${where}: category`).to.include(declared);
      const byName = categoryOfClass(cls);
      if (byName !== REPORT_CATEGORY_OF[declared])
        disagree.push(
          `${where}: declares ${declared} (${REPORT_CATEGORY_OF[declared]}), table says ${byName}`,
        );
    }
    expect(disagree).to.deep.equal([]);
  });

  it("an error's own category comes before its name: a class the table never heard of is filed by it", () => {
    class ProbeLost extends HilError {
      static override readonly category = "infrastructure" as const;
    }
    class BadReply extends HilError {
      static override readonly category = "device" as const;
    }
    expect(classifyError(new ProbeLost("probe gone"))).to.equal("infrastructure");
    expect(classifyError(new BadReply("odd byte"))).to.equal("firmware-device");
    expect(classifyError(new HilError("bad flag", { category: "usage" }))).to.equal("harness");
    expect(categoryOf({ status: "broken", errorName: "BadReply", errorCategory: "device" })).to.equal(
      "firmware-device",
    );
  });

  it("a DFU device leaving the bus is the lab's; asking for an alt it lacks is the caller's", () => {
    const disconnected = new DfuError({ kind: "disconnected", operation: "DNLOAD", detail: "gone" });
    const usage = new DfuError({ kind: "usage", operation: "select alt", detail: "no alt 9" });
    const status = new DfuError({ kind: "status", operation: "DNLOAD", detail: "errPROG" });
    expect([disconnected.category, usage.category, status.category]).to.deep.equal([
      "infrastructure",
      "usage",
      "device",
    ]);
    expect([classifyError(disconnected), classifyError(usage), classifyError(status)]).to.deep.equal([
      "infrastructure",
      "harness",
      "firmware-device",
    ]);
  });

  it("the table names no class that does not exist (a renamed class would leave a dead entry)", async () => {
    const names = new Set<string>(["AssertionError"]); // chai's, raised by suites
    for (const file of await harnessModules()) {
      const exports = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
      for (const value of Object.values(exports))
        if (typeof value === "function" && value.prototype instanceof Error) names.add(value.name);
    }
    expect(Object.keys(ERROR_CATEGORIES).filter((n) => !names.has(n))).to.deep.equal([]);
  });

  it("a FUS reporting IMG_NOT_AUTHENTIC is the device's; a request the client refused is ours", () => {
    const notAuthentic = new FusClientError("fus", "FW_UPGRADE", "FUS reported an error", {
      state: 0xff,
      error: 0x03,
    });
    expect(notAuthentic.message).to.include("IMG_NOT_AUTHENTIC");
    expect(classifyError(notAuthentic)).to.equal("firmware-device");
    expect(classifyError(new FusClientError("refused", "LOCK_USR_AUTH_KEY", "no consent"))).to.equal(
      "harness",
    );
  });

  it("a client timing out on a device that does not answer is the device's", () => {
    expect(classifyError(new TimeoutError("GETSTATUS", 5000))).to.equal("firmware-device");
    expect(classifyError(new ReadTimeoutError("/dev/ttyACM0", 1, 1000, new Uint8Array(0)))).to.equal(
      "firmware-device",
    );
  });

  it("a TypeError is the harness's whatever its message says, and so its status is broken", () => {
    const err = new TypeError("Cannot read properties of null (reading 'assertErased')");
    expect(classifyError(err)).to.equal("harness");
    expect(statusOfCategory(classifyError(err))).to.equal("broken");
    // A stored result Allure marked "failed" from the message: the status does not decide.
    expect(categoryOf({ status: "failed", errorName: "TypeError" }), "a failed TypeError result").to.equal(
      "harness",
    );
    expect(categoryOf({ status: "failed" }), "a failed result of unknown error").to.equal("harness");
  });

  it("a chai assertion is the device's, and failed", () => {
    const err = Object.assign(new Error("expected 'dfuIDLE' to equal 'dfuERROR'"), {
      name: "AssertionError",
    });
    expect(classifyError(err)).to.equal("firmware-device");
    expect(statusOfCategory("firmware-device")).to.equal("failed");
    expect(statusOfCategory("infrastructure")).to.equal("broken");
  });
});
