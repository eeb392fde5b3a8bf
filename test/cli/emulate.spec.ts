/**
 * `hil emulate` names its profiles from one registry: an unknown one is answered with every
 * profile it serves, each of which is then accepted, and the usage line lists the same.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { expect } from "chai";
import { execa } from "execa";
import { EMULATE_ACCEPTED_NAMES, EMULATE_PROFILE_NAMES } from "../../harness/cli/emulate-profiles.js";
import { PROFILES } from "../../harness/devices/stm32/profiles.js";
import { projectRoot } from "../../harness/rig/load.js";

const HIL = join(projectRoot(), "bin", "hil.js");
const hil = (...args: string[]) => execa("node", [HIL, ...args], { reject: false, timeout: 30_000 });

describe("hil emulate: the profiles", function () {
  this.timeout(60_000);

  it("the registry holds every STM32 family, the TKey and the nRF52840 with MCUboot, old names as aliases", () => {
    const families = Object.values(PROFILES).map((p) => p.family);
    expect(EMULATE_PROFILE_NAMES).to.include.members([...families, "tkey", "nrf52840"]);
    expect(EMULATE_ACCEPTED_NAMES).to.include.members([...Object.keys(PROFILES), "nrf52840-mcuboot"]);
  });

  it("an unknown board is one line listing every family and alias, exit 2", async () => {
    const r = await hil("emulate", "stm32f999", "--uart-pty", "/tmp/never-made");
    expect(r.exitCode).to.equal(2);
    const lines = r.stderr.trim().split("\n");
    expect(lines).to.have.length(1);
    const known = /^hil: emulate: unknown board family 'stm32f999' \(known: (.*)\)$/.exec(lines[0]!);
    expect(known, lines[0]).to.not.equal(null);
    const listed = known![1]!.split(/, | \(or |\)/).filter((n) => n !== "");
    expect(listed).to.have.members([...EMULATE_ACCEPTED_NAMES]);
  });

  it("a bad --option value is one line naming the option, exit 2, and no pty is made", async () => {
    for (const [profile, option, expected] of [
      [
        "stm32wb55",
        "st-signature=bogus",
        'emulator option st-signature: expected verify or unverified, got "bogus"',
      ],
      [
        "stm32l432kc",
        "usartDoubleAck=maybe",
        'emulator option usartDoubleAck: expected true or false, got "maybe"',
      ],
      [
        "stm32l432kc",
        "misbehave=soon",
        'emulator option misbehave: expected SEED or SEED:RATE (SEED a whole number, RATE in (0, 1]), got "soon"',
      ],
    ] as const) {
      const path = `/tmp/hil-bad-option-${process.pid}`;
      const r = await hil("emulate", profile, "--uart-pty", path, "--option", option);
      expect(r.exitCode, option).to.equal(2);
      expect(r.stderr.trim(), option).to.equal(`hil: ${expected}`);
      expect(existsSync(path), option).to.equal(false);
    }
  });

  it("each listed profile is accepted (what it misses next is the pty path, not the profile)", async () => {
    for (const name of EMULATE_ACCEPTED_NAMES) {
      const r = await hil("emulate", name);
      expect(r.exitCode, name).to.equal(2);
      expect(r.stderr, name).to.not.match(/unknown profile/);
      expect(r.stderr, name).to.match(/--uart-pty PATH/);
    }
  });

  it("hil emulate --help lists them", async () => {
    const r = await hil("emulate", "--help");
    expect(r.stdout).to.include(`<${EMULATE_PROFILE_NAMES.join("|")}>`);
  });
});
