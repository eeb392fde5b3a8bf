import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import { execa } from "execa";
import { startEmulator } from "../../harness/expose/emulator-process.js";

const HIL = join(import.meta.dirname, "..", "..", "bin", "hil.js");
const hil = (...args: string[]) => execa("node", [HIL, ...args], { reject: false, all: true });

describe("hil usart", function () {
  this.timeout(60_000);

  it("probes an emulated board of the default rig", async () => {
    const r = await hil("usart", "info", "--board", "l432-0");
    expect(r.exitCode, r.all).to.equal(0);
    expect(r.stdout).to.include("PID 0x435, protocol V3.1");
    expect(r.stdout).to.include("ExtendedErase (0x44)");
  });

  it("reads flash as a hex dump", async () => {
    const r = await hil("usart", "read", "0x08000000", "16", "--board", "wb55-0");
    expect(r.exitCode, r.all).to.equal(0);
    expect(r.stdout.trim()).to.equal(
      "0000  ff ff ff ff ff ff ff ff  ff ff ff ff ff ff ff ff  |................|",
    );
  });

  it("prints the transcript and exits 1 when the bootloader refuses (erase above SFSA on a WB55)", async () => {
    const r = await hil("usart", "erase", "--pages", "255", "--board", "wb55-0");
    expect(r.exitCode).to.equal(1);
    expect(r.stderr).to.match(/Extended Erase 1 page\(s\) from 255: NACK/);
    expect(r.stderr).to.include(">> tx");
    // The tail every client error shares, not the whole session.
    expect(r.stderr).to.match(/\ntranscript \(last 8 of \d+ entries\):\n/);
  });

  it("writes an Intel HEX file at its own addresses (two records, a gap between), verified", async () => {
    const dir = mkdtempSync(join(tmpdir(), "hil-usart-cli-"));
    const file = join(dir, "app.hex");
    // Extended linear address 0x0800, 4 bytes at 0x08000000 and 4 at 0x08000100, EOF.
    writeFileSync(
      file,
      [":020000040800F2", ":0400000001020304F2", ":04010000AABBCCDDED", ":00000001FF", ""].join("\n"),
    );
    const r = await hil("usart", "write", file, "--erase", "--verify", "--board", "l432-0");
    expect(r.exitCode, r.all).to.equal(0);
    expect(r.stderr).to.include("verified");
  });

  it("a malformed image is refused before the link opens: exit 2, the file and the line named", async () => {
    const dir = mkdtempSync(join(tmpdir(), "hil-usart-cli-"));
    const bad = join(dir, "bad.hex");
    writeFileSync(bad, ":0400000001020304F2\n:04010000AABBZZDDEA\n:00000001FF\n");
    const r = await hil("usart", "write", bad, "--board", "l432-0", "--transcript", join(dir, "t.json"));
    expect(r.exitCode, r.all).to.equal(2);
    expect(r.stderr).to.include(bad);
    expect(r.stderr).to.not.include(">> tx"); // no session was opened
    const missing = await hil("usart", "write", join(dir, "nope.bin"), "--board", "l432-0");
    expect(missing.exitCode).to.equal(2);
    expect(missing.stderr.trim()).to.match(/^hil: usart write: cannot read .*nope\.bin: ENOENT/);
    const addressed = await hil("usart", "write", bad, "0x08000000", "--board", "l432-0");
    expect(addressed.exitCode).to.equal(2);
  });

  it("--port on a pty (hil emulate --uart-pty): writes and verifies through the pty, saying it has no parity", async function () {
    if (spawnSync("which", ["socat"]).status !== 0) this.skip();
    const dir = mkdtempSync(join(tmpdir(), "hil-usart-cli-"));
    const link = join(dir, "tty");
    const file = join(dir, "app.bin");
    writeFileSync(
      file,
      Uint8Array.from({ length: 3000 }, (_, i) => (i * 13) & 0xff),
    );
    const emu = await startEmulator("stm32l432kc", link, [], { log: false });
    try {
      const r = await hil("usart", "write", file, "--erase", "--verify", "--port", link);
      expect(r.exitCode, r.all).to.equal(0);
      expect(r.stderr).to.include(
        `${link} is a pty: it has no baud rate or parity (asked for 115200 baud, even parity)`,
      );
      expect(r.stderr).to.include("verified");
    } finally {
      await emu.stop();
    }
  });

  it("refuses bad arguments with one line and exit code 2", async () => {
    const r = await hil("usart", "read", "0x08000000", "--board", "l432-0");
    expect(r.exitCode).to.equal(2);
    expect(r.stderr.trim()).to.equal("hil: usart: LENGTH expected a number (decimal or 0x hex), got ''");
    const u = await hil("usart", "flash");
    expect(u.exitCode).to.equal(2);
  });
});
