/**
 * The README's part on boards on other hosts matches the code: the ser2net config it tells
 * a rack operator to write has the options the tests and the bench run ser2net with (the
 * ones that make it fast), and the Security paragraph's loopback default is the servers'.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { expect } from "chai";
import { ser2netConfig } from "../../harness/expose/ser2net-process.js";
import { projectRoot } from "../../harness/rig/load.js";

async function remoteSection(): Promise<string> {
  const readme = await readFile(join(projectRoot(), "README.md"), "utf8");
  const start = readme.indexOf("### Boards on other hosts");
  expect(start, "README has a section on boards on other hosts").to.be.at.least(0);
  return readme.slice(start, readme.indexOf("\n## ", start));
}

describe("README: boards on other hosts", () => {
  it("shows a ser2net config with the accepter and options the harness's own ser2net uses", async () => {
    const text = await remoteSection();
    const ours = ser2netConfig([{ device: "/dev/x", kind: "rfc2217" }], [3001]).split("\n");
    const accepter = ours
      .find((l) => l.includes("accepter:"))!
      .trim()
      .replace("127.0.0.1", "0.0.0.0");
    expect(text).to.include(accepter);
    for (const option of ours.filter((l) => /^ {4}\w/.test(l)).map((l) => l.trim()))
      expect(text).to.include(option);
  });

  it("says these sockets have no authentication and the harness's servers bind to loopback", async () => {
    const text = (await remoteSection()).replace(/\s+/g, " ");
    expect(text).to.include("carry no authentication");
    expect(text).to.include("lab network");
    expect(text).to.include("bind to loopback (`127.0.0.1`) by default");
    expect(ser2netConfig([{ device: "/dev/x", kind: "raw" }], [4001])).to.include(
      "tcp(nodelay),127.0.0.1,4001",
    );
  });
});
