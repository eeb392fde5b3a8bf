/**
 * One client contract: each of the five host clients, opened with `open(link, {clock})` on an
 * emulated link, has typed `events.on(kind, fn)` with an unsubscribe, `close()` that ends
 * the session, and errors that extend ClientError and render their transcript tail the
 * same way (the last 8 entries, hex dumps cut to their first and last line).
 */
import { expect } from "chai";
import { DfuClient } from "../../harness/clients/dfu/index.js";
import { ClientError, renderTranscriptTail, TAIL_ENTRIES } from "../../harness/clients/errors.js";
import { DfuFusLink, FusClient } from "../../harness/clients/fus/index.js";
import { SmpClient } from "../../harness/clients/smp/index.js";
import { UsartClient } from "../../harness/clients/stm32-usart/index.js";
import { TKeyClient } from "../../harness/clients/tkey/index.js";
import { Nrf52840McubootDevice } from "../../harness/devices/nrf52840-mcuboot/device.js";
import { Stm32Device } from "../../harness/devices/stm32/device.js";
import { attachUsbDfu, EmulatedUsbBus } from "../../harness/devices/stm32/dfu/index.js";
import { connectUsart } from "../../harness/devices/stm32/usart/port.js";
import { TKeyDevice } from "../../harness/devices/tkey/device.js";
import { publicOf } from "../../harness/protocol/mcuboot/index.js";
import { HilError } from "../../harness/seams/errors.js";
import { VirtualClock } from "../../harness/sim/virtual-clock.js";
import type { ByteStream } from "../../harness/transport/byte-stream.js";
import type { Transcript } from "../../harness/transport/transcript.js";
import { app, goodKey } from "../devices/nrf52840/helpers.js";

const ROM = { vendorId: 0x0483, productId: 0xdf11 };

/** What the contract needs of one client, opened on its emulated link. */
interface Case {
  client: {
    readonly transcript: Transcript;
    readonly events: { on(kind: string, fn: (e: unknown) => void): () => void };
    close(): Promise<void>;
  };
  /** An event kind `act` makes the client emit at least once. */
  kind: string;
  act(): Promise<unknown>;
  /** An operation the device refuses or never answers. */
  provoke(): Promise<unknown>;
  /** The stream under the client, where there is one, to see close() reach it. */
  stream?: ByteStream;
  /** Asserts the session is over after close(); default: `act` fails. */
  closed?(): Promise<void>;
}

async function stm32(profile: "stm32l432kc" | "stm32wb55", options: Record<string, unknown> = {}) {
  const clock = new VirtualClock();
  const dev = new Stm32Device({ clock, seed: 7, profile, options });
  const port = attachUsbDfu(dev);
  await dev.power.on();
  return { clock, dev, bus: new EmulatedUsbBus([port], clock) };
}

const CASES: Record<string, () => Promise<Case>> = {
  async dfu() {
    const { clock, bus } = await stm32("stm32l432kc");
    const client = await DfuClient.open(bus, ROM, { clock, timeouts: { enumerateMs: 5000 } });
    return {
      client: client as unknown as Case["client"],
      kind: "status",
      act: () => client.getStatus(),
      provoke: () => client.setAddress(0x08040000), // errTARGET: outside the L432's flash
    };
  },
  async usart() {
    const { clock, dev } = await stm32("stm32l432kc");
    const stream = connectUsart(dev);
    const client = await UsartClient.open(stream, { clock });
    expect(client.synced).to.equal("ack");
    return {
      client: client as unknown as Case["client"],
      kind: "command",
      act: () => client.getVersion(),
      provoke: () => client.read(0x0900_0000, 4), // NACK: no memory there
      stream,
    };
  },
  async fus() {
    const { clock, bus } = await stm32("stm32wb55", { fusFactoryStack: false });
    const link = await DfuFusLink.open(bus, ROM, { clock });
    const client = await FusClient.open(link, { clock });
    return {
      client: client as unknown as Case["client"],
      kind: "trace",
      act: () => client.getState(),
      provoke: () => client.fwDelete(), // IMG_NOT_FOUND on an empty device
      // The link takes a failed transfer for "no answer" (a reset); its DFU handle is released.
      closed: async () => {
        expect(await client.getState()).to.equal(undefined);
        const err = await link.dfu.getStatus().catch((e: unknown) => e);
        expect(err).to.have.property("kind", "stale");
      },
    };
  },
  async tkey() {
    const clock = new VirtualClock();
    const dev = new TKeyDevice({ clock, seed: 3 });
    await dev.power.on();
    const stream = dev.port("tkey");
    const client = await TKeyClient.open(stream, { clock });
    return {
      client: client as unknown as Case["client"],
      kind: "probe",
      act: () => client.probe(),
      provoke: async () => {
        await client.writeRaw(Uint8Array.of(0xd0), "malformed header"); // the firmware halts
        return client.probe();
      },
      stream,
    };
  },
  async smp() {
    const clock = new VirtualClock();
    const dev = new Nrf52840McubootDevice({ clock, seed: 5, options: { keys: [publicOf(goodKey)] } });
    dev.program(dev.layout.primary.offset, app("1.0.0", 4096));
    await dev.power.on();
    const stream = dev.port("console");
    const client = await SmpClient.open(stream, { clock, timeouts: { requestMs: 1000 }, retries: 0 });
    return {
      client: client as unknown as Case["client"],
      kind: "request",
      act: () => client.echo("hello"),
      provoke: async () => {
        await dev.power.off(); // nothing answers
        return client.echo("anyone?");
      },
      stream,
    };
  },
};

/** The tail's shape: a heading, then at most 8 entries, each hex dump cut to its first and last line. */
function expectTailShape(tail: string, total: number): void {
  const lines = tail.trimEnd().split("\n");
  const heading =
    total > TAIL_ENTRIES ? `transcript (last ${TAIL_ENTRIES} of ${total} entries):` : "transcript:";
  expect(lines[0]).to.equal(heading);
  const headers = lines.slice(1).filter((l) => /^\s*\d+\.\d{3} ms /.test(l));
  expect(headers).to.have.length(Math.min(total, TAIL_ENTRIES));
}

describe("clients: one contract for all five", () => {
  for (const [name, open] of Object.entries(CASES)) {
    describe(name, () => {
      it("events.on(kind, fn) delivers that kind only, until the unsubscribe", async () => {
        const { client, kind, act } = await open();
        const seen: unknown[] = [];
        const off = client.events.on(kind, (e) => seen.push(e));
        const other: unknown[] = [];
        client.events.on("no-such-kind", (e) => other.push(e));
        await act();
        expect(seen.length, `${kind} events`).to.be.above(0);
        expect(other).to.deep.equal([]);
        off();
        const before = seen.length;
        await act();
        expect(seen.length, "after the unsubscribe").to.equal(before);
        await client.close();
      });

      it("an error is a ClientError carrying the session transcript and the shared tail", async () => {
        const { client, provoke } = await open();
        const err = await provoke().then(
          () => expect.fail("the operation should fail"),
          (e: unknown) => e,
        );
        expect(err).to.be.instanceOf(ClientError).and.instanceOf(HilError);
        const e = err as ClientError;
        expect(e.transcript).to.equal(client.transcript);
        const total = client.transcript.entries.length;
        expect(total).to.be.above(0);
        expect(e.transcriptTail).to.equal(renderTranscriptTail(client.transcript));
        expectTailShape(e.transcriptTail, total);
        expect(e.stack?.endsWith(e.transcriptTail)).to.equal(true, "the stack ends with the tail");
        expect(e.message).not.to.include("transcript");
        expect(e.category).to.be.oneOf(["device", "infrastructure"]);
        expect(e.source, "who failed").to.equal(`${name} client`);
        await client.close();
      });

      it("close() ends the session: the link is released and a second close is harmless", async () => {
        const c = await open();
        await c.act();
        await c.client.close();
        if (c.stream) expect(c.stream.closed, "the stream").to.equal(true);
        if (c.closed) await c.closed();
        else
          await c.act().then(
            () => expect.fail("an operation after close() should fail"),
            () => undefined,
          );
        await c.client.close();
      });
    });
  }

  it("FusClient.open refuses a clock that is not its link's (polls and reads on two clocks)", async () => {
    const { clock, bus } = await stm32("stm32wb55");
    const link = await DfuFusLink.open(bus, ROM, { clock });
    const err = await FusClient.open(link, { clock: new VirtualClock() }).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(HilError).with.property("category", "usage");
    await link.close();
  });
});
