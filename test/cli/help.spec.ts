import { expect } from "chai";
import { COMMAND_HELP } from "../../harness/cli/help.js";
import { main } from "../../harness/cli/main.js";

/** Runs `hil args` in this process; what it printed on stdout and stderr, and its exit code. */
async function hil(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const { log, error } = console;
  console.log = (...a: unknown[]) => out.push(a.join(" "));
  console.error = (...a: unknown[]) => err.push(a.join(" "));
  try {
    const code = await main(args);
    return { code, out: out.join("\n"), err: err.join("\n") };
  } finally {
    console.log = log;
    console.error = error;
  }
}

const COMMANDS = [
  "run",
  "report",
  "replay",
  "rigs",
  "init",
  "reserve",
  "release",
  "leases",
  "keygen",
  "sign",
  "smp",
  "emulate",
  "tkey",
  "usart",
  "dfu",
  "fus",
  "campaign",
  "calibrate",
];

describe("hil --help", () => {
  it("every command answers --help with its own usage, exit 0, running nothing", async () => {
    expect(Object.keys(COMMAND_HELP)).to.have.members(COMMANDS);
    for (const command of COMMANDS)
      for (const flag of ["--help", "-h"]) {
        // Other options beside --help (even bad ones) must not turn it into a usage error.
        const r = await hil([command, "--rig", "absent.yaml", flag]);
        expect(r.code, `${command} ${flag}: ${r.err}`).to.equal(0);
        expect(r.err, command).to.equal("");
        expect(r.out.split("\n")[0], command).to.match(new RegExp(`^usage: hil ${command} \\S`));
        expect(r.out, command).to.include(COMMAND_HELP[command]!.details.split("\n")[0]!);
      }
  });

  it("hil --help is a short overview: one line per command, how to get more", async () => {
    const r = await hil(["--help"]);
    expect(r.code).to.equal(0);
    const lines = r.out.split("\n");
    // One line per command, plus the usage line, the pointer to per-command help and the
    // environment block: no paragraphs.
    expect(lines.length).to.be.at.most(COMMANDS.length + 9);
    for (const command of COMMANDS) expect(r.out).to.match(new RegExp(`^  ${command} +\\S`, "m"));
    expect(r.out).to.include("hil <command> --help");
  });

  it("hil help <command> is that command's help; a --help after -- is an argument", async () => {
    expect((await hil(["help", "dfu"])).out).to.equal((await hil(["dfu", "--help"])).out);
    const r = await hil(["run", "--", "--help"]);
    expect(r.code).to.equal(2);
    expect(r.err).to.match(/^hil: /);
  });
});
