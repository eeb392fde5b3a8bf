/**
 * exitWhenDone: a process whose command is done but which still holds something open (here a
 * listening socket) exits after the grace time, naming it; one holding nothing ends at once.
 */
import { expect } from "chai";
import { execa } from "execa";

const WATCHDOG = new URL("../../harness/cli/exit-watchdog.ts", import.meta.url).pathname;

function script(leaveOpen: boolean): string {
  return [
    `import { createServer } from "node:net";`,
    `import { exitWhenDone } from ${JSON.stringify(WATCHDOG)};`,
    leaveOpen ? `createServer().listen(0, "127.0.0.1");` : "",
    `process.exitCode = 3;`,
    `exitWhenDone(300);`,
  ].join("\n");
}

describe("cli/exit-watchdog", function () {
  this.timeout(30_000);

  it("exits after the grace time when a handle is left open, naming it, with the command's exit code", async () => {
    const started = Date.now();
    const r = await execa("node", ["--import", "tsx", "--input-type=module", "-e", script(true)], {
      reject: false,
      timeout: 20_000,
    });
    expect(r.timedOut, "the process did not end by itself").to.equal(false);
    expect(r.exitCode).to.equal(3);
    expect(r.stderr).to.match(/hil: exiting with resources still open: .*TCPServerWrap/);
    expect(Date.now() - started).to.be.at.least(300);
  });

  it("says nothing when nothing is left open", async () => {
    const r = await execa("node", ["--import", "tsx", "--input-type=module", "-e", script(false)], {
      reject: false,
      timeout: 20_000,
    });
    expect(r.exitCode).to.equal(3);
    expect(r.stderr).to.equal("");
  });
});
