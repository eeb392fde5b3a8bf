/** The rig file's `leases` block: etcd settings with defaults, and no secret accepted inline. */
import { expect } from "chai";
import { parseRigFile, RigFileError } from "../../harness/rig/load.js";

const FILE = "rigs/rack3.yaml";
const yaml = (...lines: string[]) => `${lines.join("\n")}\n`;
const BOARDS = [
  "boards:",
  "  - id: l432-a",
  "    family: stm32l432",
  "    capabilities: [usart]",
  "    serial: { byId: /dev/serial/by-id/usb-a-if00 }",
  '    power: { backend: command, on: "true", off: "true" }',
];

function problems(text: string): string[] {
  try {
    parseRigFile(text, FILE);
  } catch (e) {
    expect(e).to.be.instanceOf(RigFileError);
    return (e as RigFileError).message.split("\n").slice(1);
  }
  expect.fail("expected a RigFileError");
}

describe("rig files: leases", () => {
  it("takes an etcd backend, filling prefix and TTL; no block means lock files", () => {
    const rig = parseRigFile(
      yaml("name: rack3", "leases:", "  backend: etcd", '  endpoints: ["http://etcd1:2379"]', ...BOARDS),
      FILE,
    );
    expect(rig.leases).to.deep.equal({
      backend: "etcd",
      endpoints: ["http://etcd1:2379"],
      prefix: "/update-hil/",
      ttlS: 15,
    });
    expect(parseRigFile(yaml("name: rack3", ...BOARDS), FILE).leases).to.equal(undefined);
  });

  it("refuses a password in the file, an endpoint without a scheme and a TTL too short, naming line and field", () => {
    expect(
      problems(
        yaml(
          "name: rack3",
          "leases:",
          "  backend: etcd",
          '  endpoints: ["etcd1:2379"]',
          "  ttlS: 1",
          "  auth: { user: hil, password: hunter2 }",
          ...BOARDS,
        ),
      ),
    ).to.deep.equal([
      `${FILE}:4 leases.endpoints[0]: expected "http://host:port" or "https://host:port" (credentials go in auth)`,
      `${FILE}:5 leases.ttlS: must be at least 3 s`,
      `${FILE}:6 leases.auth.passwordEnv: missing (expected string)`,
      `${FILE}:6 leases.auth.password: a password never goes in the rig file: name its environment variable in passwordEnv`,
    ]);
  });
});
