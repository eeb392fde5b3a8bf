/**
 * What is at --uart-pty PATH before a pty is served there: only a stale link of ours (to a
 * /dev/pts/N that is gone) is replaced; a user's file, a directory, a link elsewhere, or a
 * link to a live pty are refused and left exactly as they were. In-process through
 * servePty, and through `hil emulate` (one line, exit 2) on every pty profile.
 */
import { spawnSync } from "node:child_process";
import { lstat, mkdir, mkdtemp, readFile, readlink, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import { execa } from "execa";
import { startEmulator } from "../../harness/expose/emulator-process.js";
import { PtyPathTakenError } from "../../harness/expose/pty-link.js";
import { servePty } from "../../harness/expose/uart-pty.js";
import { projectRoot } from "../../harness/rig/load.js";
import { WallClock } from "../../harness/transport/clock.js";
import { hello, PTY_PROFILES } from "./protocol-hello.js";

const clock = new WallClock();
const HIL = join(projectRoot(), "bin", "hil.js");

/** A /dev/pts/N that does not exist: what a killed socat's link points to once its pty is gone. */
async function gonePty(): Promise<string> {
  for (let n = 9999; ; n--) {
    const path = `/dev/pts/${n}`;
    if (
      !(await lstat(path).then(
        () => true,
        () => false,
      ))
    )
      return path;
  }
}

describe("expose/pty-link: what is at the pty path", function () {
  this.timeout(60_000);
  let dir: string;

  before(async function () {
    if (spawnSync("which", ["socat"]).status !== 0) this.skip(); // apt-get install -y socat
    dir = await mkdtemp(join(tmpdir(), "hil-pty-path-"));
  });
  after(() => dir && rm(dir, { recursive: true, force: true }));

  async function refused(path: string, message: RegExp): Promise<void> {
    const err = await servePty(path, clock).then(
      async (b) => {
        await b.close();
        return undefined;
      },
      (e: unknown) => e,
    );
    expect(err).to.be.instanceOf(PtyPathTakenError);
    expect((err as Error).message).to.match(message);
  }

  it("a user's regular file is refused and keeps its bytes", async () => {
    const path = join(dir, "notes.txt");
    await writeFile(path, "my notes\n");
    await refused(path, /notes\.txt is a regular file; refusing to replace it/);
    expect(await readFile(path, "utf8")).to.equal("my notes\n");
  });

  it("a directory, a link to a real serial device and a link to a live pty are refused, left as they were", async () => {
    const folder = join(dir, "folder");
    await mkdir(folder);
    await writeFile(join(folder, "inside"), "x");
    await refused(folder, /is a directory/);
    expect(await readFile(join(folder, "inside"), "utf8")).to.equal("x");

    const tty = join(dir, "ttyUSB0");
    await symlink("/dev/null", tty);
    await refused(tty, /is a symbolic link to \/dev\/null, not to a pty/);
    expect(await readlink(tty)).to.equal("/dev/null");

    const live = await servePty(join(dir, "live"), clock);
    try {
      await refused(live.link, /links to \/dev\/pts\/\d+, a pty in use/);
      expect(await readlink(live.link)).to.equal(live.pty);
      // The first server still has its link and its line.
      const got = new Promise<Uint8Array>((resolve) => live.line.onData(resolve));
      const fh = await import("node:fs/promises").then((fs) => fs.open(live.link, "r+"));
      await fh.write(Uint8Array.of(0x42));
      expect(Array.from(await got)).to.deep.equal([0x42]);
      await fh.close();
    } finally {
      await live.close();
    }
  });

  it("a stale link of ours (to a /dev/pts/N that is gone) is replaced by the new pty", async () => {
    const path = join(dir, "stale");
    const gone = await gonePty();
    await symlink(gone, path);
    const bridge = await servePty(path, clock);
    try {
      expect(bridge.pty).to.not.equal(gone);
      expect(await readlink(path)).to.equal(bridge.pty);
    } finally {
      await bridge.close();
    }
    expect(
      await lstat(path).then(
        () => "there",
        () => "removed",
      ),
    ).to.equal("removed");
  });

  describe("hil emulate --uart-pty", () => {
    for (const { profile, args } of PTY_PROFILES) {
      it(`${profile}: a user's regular file at PATH is one line, exit 2, the file unchanged`, async () => {
        const path = join(dir, `${profile}.txt`);
        await writeFile(path, `kept ${profile}\n`);
        const r = await execa("node", [HIL, "emulate", profile, "--uart-pty", path, ...args()], {
          reject: false,
          timeout: 30_000,
        });
        expect(r.exitCode).to.equal(2);
        expect(r.stdout).to.equal("");
        expect(r.stderr.trim().split("\n")).to.deep.equal([
          `hil: --uart-pty: ${path} is a regular file; refusing to replace it (remove it or choose another path)`,
        ]);
        expect(await readFile(path, "utf8")).to.equal(`kept ${profile}\n`);
      });
    }

    it("a second emulator on the PATH of a running one is refused; the first still answers", async () => {
      const path = join(dir, "shared");
      const first = await startEmulator("stm32l432kc", path, [], { log: false });
      try {
        const r = await execa("node", [HIL, "emulate", "tkey", "--uart-pty", path], {
          reject: false,
          timeout: 30_000,
        });
        expect(r.exitCode).to.equal(2);
        expect(r.stderr).to.match(/^hil: --uart-pty: .*shared links to \/dev\/pts\/\d+, a pty in use/);
        expect(await hello("stm32l432kc", path)).to.equal("sync ack");
      } finally {
        expect((await first.stop()).exitCode).to.equal(0);
      }
    });

    it("a stale link is removed, said on stderr, and the board served", async () => {
      const path = join(dir, "stale-cli");
      const gone = await gonePty();
      await symlink(gone, path);
      const emu = await startEmulator("stm32wb55", path, [], { log: false });
      try {
        expect(emu.log()).to.include(`hil emulate: removed ${path}, a stale link to ${gone} (gone)`);
        expect(await hello("stm32wb55", path)).to.equal("sync ack");
      } finally {
        expect((await emu.stop()).exitCode).to.equal(0);
      }
    });
  });
});
