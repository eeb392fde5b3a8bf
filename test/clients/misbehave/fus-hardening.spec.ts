/**
 * The FUS client's fixes for what the misbehaving device found, each on the exchange that
 * showed it (these fail on the client as it was before).
 */
import { expect } from "chai";
import { DfuError } from "../../../harness/clients/dfu/index.js";
import {
  type DfuFusLink,
  FusClient,
  FusClientError,
  type FusLink,
} from "../../../harness/clients/fus/index.js";
import { usbPortOf } from "../../../harness/devices/stm32/dfu/index.js";
import { DfuState } from "../../../harness/protocol/dfu/index.js";
import { FusBootloaderOpcode, FusReplyError } from "../../../harness/protocol/fus/index.js";
import { VirtualClock } from "../../../harness/sim/virtual-clock.js";
import { Transcript } from "../../../harness/transport/transcript.js";
import { fusBench } from "../../devices/stm32-fus/helpers.js";

/** A link that answers as `over` says, and otherwise like an idle FUS. */
function scripted(over: Partial<FusLink>): FusLink {
  const clock = new VirtualClock();
  const transcript = new Transcript({ clock });
  return {
    kind: "usart",
    clock,
    source: { kind: "usart", transcript },
    getState: async () => ({ state: 0, error: 0 }),
    command: async () => ({ ok: true }),
    storedKeyIndex: async () => undefined,
    readMemory: async () => new Uint8Array(0),
    readOptionBytes: async () => new Uint8Array(0x80),
    writeFlash: async () => {},
    reconnect: async () => {},
    close: async () => {},
    ...over,
  };
}

async function reply(work: Promise<unknown>): Promise<FusClientError> {
  const err = await work.catch((e: unknown) => e);
  expect(err).to.be.instanceOf(FusClientError).with.property("kind", "reply");
  expect((err as FusClientError).transcript).to.be.an.instanceOf(Transcript);
  return err as FusClientError;
}

describe("clients/fus hardening against a misbehaving device", () => {
  it("a device information pointer cut to 2 bytes is a reply error, not a RangeError", async () => {
    const client = new FusClient(scripted({ readMemory: async () => Uint8Array.of(0x00, 0x00) }));
    const err = await reply(client.readDeviceInfo());
    expect(err.message).to.match(/pointer: needs 4 bytes, the device returned 2/);
  });

  it("the pointer is read from the bytes the link returned, wherever they sit in their buffer", async () => {
    // The pointer (0x20030100) in the second word of a buffer whose first word is junk.
    const whole = Uint8Array.of(0xaa, 0xbb, 0xcc, 0xdd, 0x00, 0x01, 0x03, 0x20);
    const reads: number[] = [];
    const client = new FusClient(
      scripted({
        readMemory: async (address) => {
          reads.push(address);
          return reads.length === 1 ? whole.subarray(4, 8) : new Uint8Array(8);
        },
      }),
    );
    const err = await reply(client.readDeviceInfo());
    expect(reads).to.deep.equal([0x2003_0000, 0x2003_0100]);
    expect(err.message).to.match(/device information table/);
  });

  it("option bytes cut short are a reply error, not a RangeError", async () => {
    const client = new FusClient(scripted({ readOptionBytes: async () => new Uint8Array(10) }));
    await reply(client.readSecureBoundaries());
  });

  it("a GET_STATE reply the decoder refuses is the client's reply error with the transcript", async () => {
    const client = new FusClient(
      scripted({
        getState: async () => {
          throw new FusReplyError(0, "DFU GET_STATE is 2 bytes, got 1");
        },
      }),
    );
    const err = await reply(client.getState());
    expect(err.cause).to.be.instanceOf(FusReplyError);
  });

  it("over USB DFU, a stalled memory read is a DfuError with the transcript", async () => {
    const b = await fusBench("usb-dfu");
    const link = b.client.link as DfuFusLink;
    const err = await link.readMemory(0xffff_0060, 2).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(DfuError).with.property("kind", "stall");
    expect((err as DfuError).transcript).to.equal(link.dfu.transcript);
  });

  it("over USB DFU, a 4.6-hour bwPollTimeout during a FUS command is waited no longer than a transfer", async () => {
    const b = await fusBench("usb-dfu");
    const link = b.client.link as DfuFusLink;
    const rom = usbPortOf(b.dev)!.rom!;
    const control = rom.control.bind(rom);
    let lied = false;
    rom.control = (setup, dir, data, length) => {
      const r = control(setup, dir, data, length);
      if (lied || setup.request !== 3 || !("data" in r) || !r.data || r.data[4] !== DfuState.dfuDNBUSY)
        return r;
      lied = true;
      const bytes = r.data.slice();
      bytes.set([0xff, 0xff, 0xff], 1);
      return { ...r, data: bytes };
    };
    const t0 = b.clock.now();
    await link.commandStatuses(FusBootloaderOpcode.FW_DELETE);
    expect(lied).to.equal(true);
    expect(b.clock.now() - t0).to.be.below(10_000);
  });
});
