/**
 * The DFU client's fixes for what the misbehaving device found, each on the exchange that
 * showed it (these fail on the client as it was before).
 */
import { expect } from "chai";
import { DfuClient, DfuError } from "../../../harness/clients/dfu/index.js";
import { DfuState } from "../../../harness/protocol/dfu/index.js";
import { poweredBoard } from "../../devices/stm32-dfu/helpers.js";

const ROM = { vendorId: 0x0483, productId: 0xdf11 };

describe("clients/dfu hardening against a misbehaving device", () => {
  it("a GETSTATUS with a 4.6-hour bwPollTimeout makes the client poll again after its transfer timeout, not hours later", async () => {
    const b = await poweredBoard("stm32l432kc");
    const client = await DfuClient.open(b.bus, ROM, { clock: b.clock, timeouts: { transferMs: 5000 } });
    // The device's first GETSTATUS after the command says dfuDNBUSY with bwPollTimeout 0xFFFFFF.
    const rom = b.port.rom!;
    const control = rom.control.bind(rom);
    let lied = false;
    rom.control = (setup, dir, data, length) => {
      const reply = control(setup, dir, data, length);
      if (
        lied ||
        setup.request !== 3 ||
        !("data" in reply) ||
        !reply.data ||
        reply.data[4] !== DfuState.dfuDNBUSY
      )
        return reply;
      lied = true;
      const bytes = reply.data.slice();
      bytes.set([0xff, 0xff, 0xff], 1);
      return { ...reply, data: bytes };
    };
    const t0 = b.clock.now();
    await client.erasePage(0x0800_0000);
    expect(lied).to.equal(true);
    expect(b.clock.now() - t0).to.be.below(6000);
    expect(b.dev.chip.flash.isErased(0x0800_0000, 2048)).to.equal(true);
  });

  it("a re-enumeration that never comes fails with the session's transcript", async () => {
    const b = await poweredBoard("stm32l432kc");
    const client = await DfuClient.open(b.bus, ROM, { clock: b.clock, timeouts: { enumerateMs: 1000 } });
    const err = await client.reconnect().catch((e: unknown) => e);
    expect(err).to.be.instanceOf(DfuError).with.property("kind", "timeout");
    expect((err as DfuError).transcript).to.equal(client.transcript);
    expect((err as DfuError).transcriptTail).to.match(/GETSTATUS|GET_DESCRIPTOR|SET_INTERFACE|open/i);
  });
});
