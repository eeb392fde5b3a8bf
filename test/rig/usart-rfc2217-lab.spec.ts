/**
 * A board on another rack host: `hil emulate stm32l432kc --uart-pty` behind a real ser2net
 * 4.3.11 on loopback (telnet(rfc2217) accepter, its own config, free ports), reached
 * through `serial: { rfc2217: "127.0.0.1:PORT" }`. The USART suites run through it as they
 * do on the pty directly (test/rig/usart-lab.spec.ts); ser2net killed mid-transfer ends as
 * infrastructure; health checks name host and port of a port that does not answer.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import { UsartClient } from "../../harness/clients/stm32-usart/index.js";
import { type EmulatorProcess, startEmulator } from "../../harness/expose/emulator-process.js";
import {
  freePort,
  type Ser2netProcess,
  ser2netCommand,
  startSer2net,
} from "../../harness/expose/ser2net-process.js";
import { categoryOfError } from "../../harness/report/failure-categories.mjs";
import { checkBoard } from "../../harness/rig/health.js";
import { parseRigFile } from "../../harness/rig/load.js";
import { buildRig } from "../../harness/rig/rig.js";
import { openUsartLink } from "../../harness/rig/usart-link.js";
import { byIdDirHooks } from "./lab-emulators.js";
import { runSuitesOnRig } from "./lab-suite-run.js";

function rigYaml(serial: string, pid: number | undefined): string[] {
  return [
    "name: rack3",
    "boards:",
    "  - id: l432-remote",
    "    family: stm32l432",
    "    capabilities: [usart, power-cut, sacrificial]",
    `    serial: ${serial}`,
    `    power: { backend: command, cutsPower: true, off: "kill -USR1 ${pid}", on: "kill -USR2 ${pid}" }`,
    "    timeouts: { enumerateMs: 5000, settleMs: 20, powerOffMs: 300, commandMs: 2000 }",
  ];
}

describe("suites/stm32-usart on a rack host's ser2net (RFC 2217 on loopback)", function () {
  this.timeout(240_000);
  const byId = byIdDirHooks();
  let emulator: EmulatorProcess | undefined;
  let ser2net: Ser2netProcess | undefined;

  before(function () {
    if (!ser2netCommand()) this.skip();
  });

  beforeEach(async () => {
    emulator = await startEmulator("stm32l432kc", join(byId.dir, "l432"), [], { log: false });
    ser2net = await startSer2net([{ device: emulator.link, kind: "rfc2217" }]);
  });

  afterEach(async () => {
    await ser2net?.stop();
    await emulator?.stop();
    ser2net = undefined;
  });

  it("the same scenarios pass through ser2net as on the pty directly; the same ones skip", async () => {
    const result = await runSuitesOnRig({
      rigYaml: rigYaml(`{ rfc2217: "${ser2net!.addresses[0]}", baudRate: 115200 }`, emulator!.pid),
      suites: "suites/stm32-usart/*.spec.ts",
    });
    expect(result.failures, result.stderr).to.deep.equal([]);
    expect(
      result.passes.map((t) => t.replace(/^stm32-usart: ([\w ]+) l432-remote \(stm32l432\) /, "$1: ")),
    ).to.deep.equal([
      "command set: Get lists one of Erase (0x43) and Extended Erase (0x44); the other is NACKed and erases nothing",
      "command set: Get Checksum (0xA1) where the part lists it: the CRC of the written bytes in both forms; else NACK",
      "error injection: a Write Memory block with a bad checksum is NACKed and nothing is written",
      "error injection: writes to a write-protected page are ACKed and dropped; Write Unprotect lifts the protection",
      "error injection: Readout Protect resets into RDP level 1: reads are refused; Readout Unprotect mass-erases and reopens",
      "full update: probes like stm32flash: sync, Get Version, Get, Get ID names the part",
      "full update: erases, writes 128 KB in 256-byte blocks, reads it back and starts it with Go",
      "power interruption: power cut after write block k: the host times out, resyncs after power-on, the second update succeeds",
    ]);
    expect(result.pending).to.deep.equal([
      "stm32-usart: command set l432-remote (stm32l432) Erase (0x43) where the part lists it: the listed pages only, then the global erase 0xFF 0x00",
      "stm32-usart: error injection skipped: rig 'rack3': board of family stm32l432 or stm32wb55 (l432-remote) lacks capability flash-faults",
      "stm32-usart: error injection skipped: rig 'rack3' has no board of family stm32wb55",
      "stm32-usart: power interruption skipped: rig 'rack3': board of family stm32l432 or stm32wb55 (l432-remote) lacks capability flash-faults",
    ]);
  });

  it("ser2net killed mid-transfer: the client fails as infrastructure at once, never as the firmware", async () => {
    const rig = buildRig(
      parseRigFile(
        rigYaml(`{ rfc2217: "${ser2net!.addresses[0]}" }`, emulator!.pid).join("\n"),
        "rack3.yaml",
      ),
      "rack3.yaml",
    );
    const board = rig.boards[0]!;
    const link = await openUsartLink(board);
    try {
      const client = new UsartClient(link, { clock: board.clock });
      await client.probe();
      await client.massErase();
      const image = new Uint8Array(128 * 1024).fill(0x5a);
      const started = board.clock.now();
      const writing = client.write(0x0800_0000, image).then(
        () => undefined,
        (e: Error) => e,
      );
      await board.clock.sleep(150);
      await ser2net!.kill();
      ser2net = undefined;
      const error = await writing;
      expect(error, "the write finished before ser2net was killed").to.be.instanceOf(Error);
      expect(categoryOfError(error)).to.equal("infrastructure");
      expect(error!.message).to.match(/rfc2217:127\.0\.0\.1:\d+ closed/);
      expect(board.clock.now() - started).to.be.below(10_000);
    } finally {
      await link.close();
    }
  });

  it("hil rigs --check: the port answers COM-PORT-OPTION; a closed port fails naming host and port", async () => {
    const healthy = buildRig(
      parseRigFile(
        rigYaml(`{ rfc2217: "${ser2net!.addresses[0]}" }`, emulator!.pid).join("\n"),
        "rack3.yaml",
      ),
      "rack3.yaml",
    );
    const scratch = await mkdtemp(join(tmpdir(), "hil-leases-"));
    try {
      const lease = { dir: scratch };
      const good = await checkBoard(healthy.boards[0]!, { lease });
      expect(good.steps.find((s) => s.name === "serial")).to.deep.include({
        ok: true,
        detail: `rfc2217 ${ser2net!.addresses[0]} answers COM-PORT-OPTION`,
      });
      const closed = `127.0.0.1:${await freePort()}`;
      const broken = buildRig(
        parseRigFile(rigYaml(`{ rfc2217: "${closed}" }`, emulator!.pid).join("\n"), "rack3.yaml"),
        "rack3.yaml",
      );
      const bad = await checkBoard(broken.boards[0]!, { lease });
      expect(bad.status).to.equal("failed");
      const serial = bad.steps.find((s) => s.name === "serial")!;
      expect(serial.ok).to.equal(false);
      expect(serial.detail).to.equal(`rfc2217 ${closed}: cannot connect (ECONNREFUSED)`);
      expect(serial.where).to.equal("rack3.yaml:6 boards[0].serial.rfc2217");
    } finally {
      await rm(scratch, { recursive: true, force: true });
    }
  });
});
