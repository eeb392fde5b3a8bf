/**
 * The README's lab section says what a rack operator needs and cannot read elsewhere: the
 * variables that move the lab's roots, the lease file as the code writes it, and what
 * `hil run`'s exit code 4 means. Checked against the code, so the text cannot drift.
 */
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import { EXIT_UNTESTED } from "../../harness/cli/run-verdict.js";
import { acquireLease } from "../../harness/lab/lease.js";
import { projectRoot } from "../../harness/rig/load.js";

async function labSection(): Promise<string> {
  const readme = await readFile(join(projectRoot(), "README.md"), "utf8");
  const start = readme.indexOf("\n## Lab racks\n");
  expect(start, "README has a Lab racks section").to.be.at.least(0);
  const end = readme.indexOf("\n## ", start + 1);
  return readme.slice(start, end < 0 ? undefined : end).replace(/\s+/g, " ");
}

describe("README: the lab racks section", () => {
  it("names the variables that move the lab's roots and the lease directory", async () => {
    const text = await labSection();
    for (const name of ["HIL_SERIAL_BY_ID_DIR", "HIL_SYSFS_USB_DIR", "HIL_LEASE_DIR", "HIL_LEASE_TIMEOUT_MS"])
      expect(text, name).to.include(`\`${name}\``);
  });

  it("gives the lease file's name and every field the code writes into it", async () => {
    const dir = await mkdtemp(join(tmpdir(), "hil-lease-doc-"));
    try {
      const lease = await acquireLease("doc-board", { dir });
      const fields = Object.keys(JSON.parse(await readFile(join(dir, "doc-board.lease"), "utf8")));
      await lease.release();
      const text = await labSection();
      expect(text).to.include("the file `<board id>.lease` in `HIL_LEASE_DIR`");
      expect(text).to.include(`JSON \`{ ${fields.join(", ")} }\``);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("says what hil run's exit code for untested boards is", async () => {
    expect(await labSection()).to.include(`exits **${EXIT_UNTESTED}** when no test failed`);
  });

  it("says how a board without boot control is strapped (boot.startsIn) and what the default does", async () => {
    const text = await labSection();
    expect(text).to.include("`startsIn: bootloader`, the default");
    expect(text).to.include("`startsIn: application`");
  });
});
