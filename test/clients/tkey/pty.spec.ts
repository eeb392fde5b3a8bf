/**
 * `hil emulate tkey` on a real pty, driven by TKeyClient through the serialport stream a
 * lab rig uses: the same bytes as a TKey's CDC port, on wall time. Also the silent halt
 * across processes, and SIGHUP as the unplug that ends it: the port goes with the TKey, as a
 * USB CDC port does, and the host opens the one the replugged TKey brings.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import { TKeyClient, TKeyGoneError, TKeySilentError } from "../../../harness/clients/tkey/index.js";
import { appDigest } from "../../../harness/protocol/tkey/index.js";
import { WallClock, withTimeout } from "../../../harness/transport/clock.js";
import { openSerialPort, type SerialPortStream } from "../../../harness/transport/serial-port-stream.js";
import { type EmulatorProcess, startEmulator } from "../../expose/emulator-process.js";

const clock = new WallClock();

describe("clients/tkey: hil emulate tkey on a pty", function () {
  this.timeout(60_000);
  let dir: string;
  let emulator: EmulatorProcess | undefined;
  let port: SerialPortStream | undefined;

  before(function () {
    if (spawnSync("which", ["socat"]).status !== 0) this.skip(); // apt-get install -y socat
    dir = mkdtempSync(join(tmpdir(), "tkey-pty-"));
  });
  afterEach(async () => {
    await port?.close();
    port = undefined;
    const stopped = await emulator?.stop();
    emulator = undefined;
    if (stopped) expect(stopped.exitCode).to.equal(0);
  });
  after(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  async function open(args: string[]): Promise<TKeyClient> {
    const link = join(dir, "tkey");
    emulator = await startEmulator("tkey", link, args);
    // tkeyclient's 62500 baud; a pty carries bytes at any rate.
    port = await openSerialPort(link, { baudRate: 62500, clock });
    return new TKeyClient(port, { clock, timeouts: { probeMs: 1000, commandMs: 1000 } });
  }

  /** Opens the link once the replugged TKey's pty is there and answers (within 5 s). */
  async function reopenWhenServed(link: string): Promise<TKeyClient> {
    const deadline = clock.now() + 5000;
    for (;;) {
      await port?.close();
      port = undefined;
      try {
        port = await openSerialPort(link, { baudRate: 62500, clock });
        const client = new TKeyClient(port, { clock, timeouts: { probeMs: 300, commandMs: 1000 } });
        await client.probe();
        return client;
      } catch (e) {
        if (clock.now() > deadline) throw e;
        await clock.sleep(50);
      }
    }
  }

  it("answers as the chosen firmware, loads an app with the right digest, then the app answers NOK", async () => {
    const client = await open(["--option", "profile=castor", "--option", "serial=0x1234"]);
    const probe = await client.probe();
    expect(probe).to.deep.include({ mode: "firmware" });
    expect(probe.mode === "firmware" && probe.nameVersion.version).to.equal(6);
    expect(await client.getUdi()).to.include({ productId: 3, serial: 0x1234 });
    const app = Uint8Array.from({ length: 400 }, (_, i) => (i * 3) & 0xff);
    expect((await client.loadApp(app)).digest).to.deep.equal(appDigest(app));
    expect(await client.probe()).to.deep.equal({ mode: "app" });
  });

  it("a malformed frame silences it until SIGHUP replugs it", async () => {
    const client = await open([]);
    await client.writeRaw(Uint8Array.of(0xd0, 0x01), "reserved bit set");
    const err = await client.probe().catch((e: unknown) => e);
    expect(err).to.be.instanceOf(TKeySilentError);
    expect(emulator!.log()).to.match(/FAIL: header 0xd0/);
    const pid = Number(
      spawnSync("pgrep", ["-f", `emulate tkey --uart-pty ${join(dir, "tkey")}`])
        .stdout.toString()
        .trim()
        .split("\n")[0],
    );
    expect(pid).to.be.above(0);
    process.kill(pid, "SIGHUP");
    // The unplug takes the port: the client holding it learns so, not a silent line.
    const held = port!;
    await withTimeout(
      clock,
      5000,
      "the held port to close on the unplug",
      new Promise((r) => held.onClose(r)),
    );
    expect(await client.probe().catch((e: unknown) => e)).to.be.instanceOf(TKeyGoneError);
    // The replugged TKey's port, found again at the same link, answers as firmware.
    const again = await reopenWhenServed(join(dir, "tkey"));
    expect((await again.probe()).mode).to.equal("firmware");
  });
});
