/**
 * A rack's relay script drives `hil emulate` with signals (SIGHUP a power cycle, SIGUSR1
 * off, SIGUSR2 on) and sends them in bursts, during a power transition too. On every pty
 * profile: the process survives, ends in the state the last signal of a burst asks for, and
 * answers its protocol when that is on (stays silent when off).
 *
 * Each signal is sent once the emulator has said it took the previous one (its stderr line),
 * so no two are merged by the kernel; the gaps then put them inside the transition the
 * previous one started (a power cycle keeps the rail down 100 ms, then the board boots).
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import { type EmulatorProcess, startEmulator } from "../../harness/expose/emulator-process.js";
import { WallClock } from "../../harness/transport/clock.js";
import { hello, PTY_PROFILES } from "./protocol-hello.js";

type PowerSignal = "SIGHUP" | "SIGUSR1" | "SIGUSR2";

const clock = new WallClock();
const TOOK = /^hil emulate: (SIGHUP|SIGUSR1|SIGUSR2): /gm;
const SETTLED = /^hil emulate: power is (on|off)$/gm;

/** Polls `check` every 10 ms until it gives a value, the emulator exits, or `what` times out. */
async function until<T>(
  emu: EmulatorProcess,
  what: string,
  check: () => T | undefined | Promise<T | undefined>,
): Promise<T> {
  let exited: number | undefined | null = null;
  void emu.exited.then((code) => {
    exited = code;
  });
  const deadline = clock.now() + 10_000;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (exited !== null)
      throw new Error(`hil emulate exited (${exited}) while waiting for ${what}:\n${emu.log()}`);
    if (clock.now() > deadline) throw new Error(`no ${what} within 10 s:\n${emu.log()}`);
    await clock.sleep(10);
  }
}

const count = (text: string, re: RegExp) => [...text.matchAll(re)].length;

/**
 * Sends each signal after the emulator took the previous one and `gapMs` more, then waits
 * for the "power is …" line that follows the last; returns what it says.
 */
async function burst(emu: EmulatorProcess, steps: [PowerSignal, number][]): Promise<"on" | "off"> {
  for (const [signal, gapMs] of steps) {
    await clock.sleep(gapMs);
    const before = count(emu.log(), TOOK);
    process.kill(emu.pid!, signal);
    await until(emu, `line for ${signal}`, () => (count(emu.log(), TOOK) > before ? true : undefined));
  }
  const lastTaken = [...emu.log().matchAll(TOOK)].at(-1)!.index;
  return until(emu, `"power is on|off" after the burst`, () => {
    const settled = [...emu.log().matchAll(SETTLED)].filter((m) => m.index > lastTaken).at(-1);
    return settled?.[1] as "on" | "off" | undefined;
  });
}

describe("hil emulate: bursts of power signals", function () {
  this.timeout(60_000);
  let dir: string;

  before(function () {
    if (spawnSync("which", ["socat"]).status !== 0) this.skip(); // apt-get install -y socat
    dir = mkdtempSync(join(tmpdir(), "hil-signals-"));
  });
  after(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("tkey: two replugs 150 ms apart (a relay script's burst) leave it running and answering", async () => {
    const link = join(dir, "tkey-replug");
    const emu = await startEmulator("tkey", link, [], { log: false });
    try {
      process.kill(emu.pid!, "SIGHUP");
      await clock.sleep(150);
      process.kill(emu.pid!, "SIGHUP");
      // Asked until it answers: the second replug is under way for a while.
      const answer = await until(emu, "an answer after the replugs", () =>
        hello("tkey", link, 300).catch(() => undefined),
      );
      expect(answer).to.equal("firmware");
    } finally {
      expect((await emu.stop()).exitCode, emu.log()).to.equal(0);
    }
  });

  for (const { profile, args } of PTY_PROFILES) {
    it(`${profile}: survives, ends as the last signal says, answers when on`, async () => {
      const link = join(dir, profile);
      const emu = await startEmulator(profile, link, args(), { log: false });
      // Asked until it answers: a TKey's port comes back a moment after its power does (it
      // enumerates again), as a real one's does.
      const answers = () =>
        until(emu, `an answer from ${profile}`, () => hello(profile, link, 300).catch(() => undefined));
      try {
        // Two replugs 150 ms apart: the second lands while the first one's board boots.
        expect(
          await burst(emu, [
            ["SIGHUP", 0],
            ["SIGHUP", 150],
          ]),
        ).to.equal("on");
        expect(await answers()).to.be.a("string");

        // Off last, with cycles and an on waiting behind the transitions.
        expect(
          await burst(emu, [
            ["SIGHUP", 0],
            ["SIGUSR1", 30],
            ["SIGHUP", 0],
            ["SIGUSR2", 60],
            ["SIGUSR1", 20],
          ]),
        ).to.equal("off");
        const silent = await hello(profile, link, 500).then(
          (answer) => `answered ${answer}`,
          () => "silent",
        );
        expect(silent, "an emulator whose power is off").to.equal("silent");
        // An unplugged TKey has no port at all: its pty goes with it.
        if (profile === "tkey") expect(existsSync(link), "the TKey's link while unplugged").to.equal(false);

        // On again: the board (a TKey: its port, served again) answers its protocol.
        expect(await burst(emu, [["SIGUSR2", 0]])).to.equal("on");
        expect(await answers()).to.be.a("string");

        // Off, then replugs during the transition: on.
        expect(
          await burst(emu, [
            ["SIGUSR1", 0],
            ["SIGHUP", 0],
            ["SIGHUP", 50],
          ]),
        ).to.equal("on");
        expect(await answers()).to.be.a("string");
      } finally {
        expect((await emu.stop()).exitCode, emu.log()).to.equal(0);
      }
    });
  }
});
