/**
 * The lab TKey link on a real pty: the emulated TKey behind servePty, found by its by-id
 * link. One link of a board is open at a time (an earlier one would keep serialport's lock),
 * and a link is handed over only once the TKey answers.
 */
import { join } from "node:path";
import { expect } from "chai";
import { TKeyClient } from "../../harness/clients/tkey/index.js";
import { TKeyDevice } from "../../harness/devices/tkey/index.js";
import { type PtyBridge, servePty } from "../../harness/expose/uart-pty.js";
import type { Board } from "../../harness/rig/board.js";
import { parseRigFile } from "../../harness/rig/load.js";
import { buildRig } from "../../harness/rig/rig.js";
import { openTKeyLink } from "../../harness/rig/tkey-link.js";
import type { ByteStream } from "../../harness/transport/byte-stream.js";
import { WallClock } from "../../harness/transport/clock.js";
import { byIdDirHooks } from "./lab-emulators.js";

const PORT_NAME = "usb-Tillitis_MTA1-USB-V1_68de5d27-if00";

function labBoard(): Board {
  const text = [
    "name: lab",
    "boards:",
    "  - id: tkey-a",
    "    family: tkey",
    "    capabilities: []",
    `    serial: { byId: /dev/serial/by-id/${PORT_NAME} }`,
    '    power: { backend: command, on: "true", off: "true" }',
    "    timeouts: { enumerateMs: 3000, settleMs: 10 }",
    "",
  ].join("\n");
  return buildRig(parseRigFile(text, "rigs/lab.yaml"), "rigs/lab.yaml").boards[0]!;
}

describe("rig/tkey-link: a lab TKey on a pty", function () {
  this.timeout(30_000);
  const byId = byIdDirHooks();
  const clock = new WallClock();
  let bridge: PtyBridge | undefined;
  let savedDir: string | undefined;
  const links: ByteStream[] = [];

  before(() => {
    savedDir = process.env.HIL_SERIAL_BY_ID_DIR;
  });
  after(() => {
    if (savedDir === undefined) delete process.env.HIL_SERIAL_BY_ID_DIR;
    else process.env.HIL_SERIAL_BY_ID_DIR = savedDir;
  });
  afterEach(async () => {
    for (const l of links.splice(0)) await l.close();
    await bridge?.close();
    bridge = undefined;
  });

  /** The TKey behind the pty; bytes reach its firmware only once `plugged()` is called. */
  async function serveTKey(): Promise<{ plugged(): void }> {
    process.env.HIL_SERIAL_BY_ID_DIR = byId.dir;
    const dev = new TKeyDevice({ clock, seed: 5 });
    await dev.power.on();
    const port = dev.port("tkey");
    const b = await servePty(join(byId.dir, PORT_NAME), clock);
    bridge = b;
    let on = false;
    port.onData((bytes) => void b.line.write(bytes).catch(() => {}));
    b.line.onData((bytes) => {
      if (on) void port.write(bytes).catch(() => {});
    });
    return { plugged: () => (on = true) };
  }

  it("a second link of the board closes the first instead of failing on its lock", async () => {
    (await serveTKey()).plugged();
    const board = labBoard();
    const first = await openTKeyLink(board);
    links.push(first);
    const second = await openTKeyLink(board);
    links.push(second);
    expect(first.closed, "the earlier link is closed").to.equal(true);
    const probe = await new TKeyClient(second, { clock }).probe();
    expect(probe.mode).to.equal("firmware");
  });

  it("the link is handed over once the TKey answers, not while its firmware still boots", async () => {
    const tkey = await serveTKey();
    const board = labBoard();
    setTimeout(() => tkey.plugged(), 400);
    const link = await openTKeyLink(board);
    links.push(link);
    // A short probe: it answers at once only if the TKey listened before the link was handed over.
    const probe = await new TKeyClient(link, { clock, timeouts: { probeMs: 150 } }).probe();
    expect(probe.mode).to.equal("firmware");
    expect(link.readAvailable(), "the readiness probe's answer is not left on the line").to.have.length(0);
  });
});
