/**
 * The scpi power backend over the network: an LXI supply's raw SCPI socket (port 5025 on a
 * real one), played by the emulated supply of the pty tests (test/rig/lab-emulators.ts) on
 * a loopback TCP port. The same commands go out as on a serial port; a supply that does
 * not answer is an InfrastructureError naming host and port.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { createServer, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import { freePort } from "../../harness/expose/ser2net-process.js";
import { ScpiPower } from "../../harness/lab/backends/scpi-power.js";
import { InfrastructureError } from "../../harness/lab/errors.js";
import { checkBoard } from "../../harness/rig/health.js";
import { parseRigFile } from "../../harness/rig/load.js";
import { buildRig } from "../../harness/rig/rig.js";
import { WallClock } from "../../harness/transport/clock.js";
import { ScpiSupply } from "../rig/lab-emulators.js";

const clock = new WallClock();
const timeouts = { commandMs: 1000, powerOffMs: 20 };

/** The emulated supply behind a TCP listener on loopback instead of a pty. */
class TcpScpiSupply extends ScpiSupply {
  #server: Server | undefined;
  #sockets = new Set<Socket>();
  /** Connections accepted so far. */
  connections = 0;
  address = "";

  async listen(): Promise<this> {
    this.#server = createServer((socket) => {
      this.connections++;
      this.#sockets.add(socket);
      socket.on("close", () => this.#sockets.delete(socket));
      socket.on("data", (chunk: Buffer) => {
        this.received.push(...chunk);
        this.onBytes(chunk);
      });
    });
    await new Promise<void>((resolve) => this.#server!.listen(0, "127.0.0.1", resolve));
    this.address = `127.0.0.1:${(this.#server.address() as { port: number }).port}`;
    return this;
  }

  protected override send(text: string | Uint8Array): void {
    for (const s of this.#sockets) s.write(typeof text === "string" ? Buffer.from(text, "latin1") : text);
  }

  override async close(): Promise<void> {
    for (const s of this.#sockets) s.destroy();
    await new Promise<void>((resolve) => (this.#server ? this.#server.close(() => resolve()) : resolve()));
  }
}

describe("lab/backends: scpi over TCP (LXI raw socket)", () => {
  let psu: TcpScpiSupply | undefined;
  afterEach(() => psu?.close());

  it("selects the output, sets it up once, switches and reads back: the serial backend's commands", async () => {
    psu = await new TcpScpiSupply(2).listen();
    const power = new ScpiPower(
      { tcp: psu.address, channel: 2, voltage: 3.3, currentLimit: 0.2 },
      "board l432: power (scpi)",
      clock,
      timeouts,
    );
    expect(await power.state()).to.equal("off");
    await power.on();
    expect(psu.outputs[1]).to.deep.equal({ on: true, volt: 3.3, curr: 0.2 });
    expect(psu.outputs[0]!.on, "the other output untouched").to.equal(false);
    await power.off();
    expect(await power.identify()).to.equal("EMULATED,PSU-2CH,SN000042,1.0");
    expect(psu.commands).to.deep.equal([
      ...["INST:NSEL 2", "SYST:ERR?", "OUTP?"],
      ...[
        "INST:NSEL 2",
        "SYST:ERR?",
        "VOLT 3.3",
        "SYST:ERR?",
        "CURR 0.2",
        "SYST:ERR?",
        "OUTP ON",
        "SYST:ERR?",
        "OUTP?",
      ],
      ...["INST:NSEL 2", "SYST:ERR?", "OUTP OFF", "SYST:ERR?", "OUTP?"],
      "*IDN?",
    ]);
    expect(psu.connections, "a connection per use").to.equal(4);
  });

  it("a supply whose output does not switch, or that refuses a command, is infrastructure", async () => {
    psu = await new TcpScpiSupply(2).listen();
    psu.ignoreOutput = true;
    const power = new ScpiPower(
      { tcp: psu.address, channel: 1 },
      "board l432: power (scpi)",
      clock,
      timeouts,
    );
    const error = await power.on().then(
      () => undefined,
      (e: Error) => e,
    );
    expect(error).to.be.instanceOf(InfrastructureError);
    expect(error!.message).to.equal("board l432: power (scpi): output 1 reads back OFF after OUTP ON");
  });

  it("a closed port and a silent supply are InfrastructureErrors naming host and port", async () => {
    const closed = `127.0.0.1:${await freePort()}`;
    const refused = await new ScpiPower(
      { tcp: closed, channel: 1 },
      "board l432: power (scpi)",
      clock,
      timeouts,
    )
      .state()
      .then(
        () => undefined,
        (e: Error) => e,
      );
    expect(refused).to.be.instanceOf(InfrastructureError);
    expect(refused!.message).to.equal(
      `board l432: power (scpi): tcp ${closed}: cannot connect (ECONNREFUSED)`,
    );
    // Listens and reads, never answers.
    const silent = createServer((s) => s.on("data", () => {}));
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    const address = `127.0.0.1:${(silent.address() as { port: number }).port}`;
    try {
      const error = await new ScpiPower({ tcp: address, channel: 1 }, "board l432: power (scpi)", clock, {
        ...timeouts,
        commandMs: 200,
      })
        .state()
        .then(
          () => undefined,
          (e: Error) => e,
        );
      expect(error).to.be.instanceOf(InfrastructureError);
      expect(error!.message).to.equal(
        `board l432: power (scpi): tcp ${address}: no answer to SYST:ERR? within 200 ms`,
      );
    } finally {
      silent.close();
    }
  });

  it("a rig file's scpi power over tcp passes the health check, and a closed one fails it naming host and port", async () => {
    psu = await new TcpScpiSupply(2).listen();
    const rig = (address: string) =>
      buildRig(
        parseRigFile(
          [
            "name: rack3",
            "boards:",
            "  - id: l432",
            "    family: stm32l432",
            "    capabilities: [usart]",
            '    serial: { tcp: "127.0.0.1:9" }',
            `    power: { backend: scpi, tcp: "${address}", channel: 2 }`,
          ].join("\n"),
          "rack3.yaml",
        ),
        "rack3.yaml",
      ).boards[0]!;
    const lease = { dir: await mkdtemp(join(tmpdir(), "hil-scpi-leases-")) };
    try {
      const good = await checkBoard(rig(psu.address), { lease });
      expect(good.steps.slice(0, 2)).to.deep.equal([
        { name: "power", ok: true, detail: "scpi: was off, switched on, now on" },
        { name: "power identify", ok: true, detail: "EMULATED,PSU-2CH,SN000042,1.0" },
      ]);
      const closed = `127.0.0.1:${await freePort()}`;
      const bad = await checkBoard(rig(closed), { lease });
      expect(bad.status).to.equal("failed");
      expect(bad.steps[0]).to.deep.equal({
        name: "power",
        ok: false,
        detail: `board l432: power (scpi): tcp ${closed}: cannot connect (ECONNREFUSED)`,
        where: "rack3.yaml:7 boards[0].power",
      });
    } finally {
      await rm(lease.dir, { recursive: true, force: true });
    }
  });
});
