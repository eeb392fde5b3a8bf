/**
 * The `misbehave` personality: its option, its engine's determinism, and that it is off
 * unless asked (every family's replies are then the documented ones).
 */
import { expect } from "chai";
import { UsartClient } from "../../harness/clients/stm32-usart/index.js";
import { TKeyClient } from "../../harness/clients/tkey/index.js";
import {
  ALL_MISCHIEF,
  MisbehavingWriter,
  Misbehaviour,
  parseMisbehave,
} from "../../harness/devices/misbehave.js";
import { EmulatorOptionError } from "../../harness/devices/option-error.js";
import { Stm32Device } from "../../harness/devices/stm32/device.js";
import { connectUsart } from "../../harness/devices/stm32/usart/port.js";
import { VirtualClock } from "../../harness/sim/virtual-clock.js";
import { poweredTKey } from "./tkey/helpers.js";

describe("devices: the misbehave personality", () => {
  it("reads SEED and SEED:RATE, and names the option when the value is wrong", () => {
    expect(parseMisbehave(undefined)).to.equal(undefined);
    expect(parseMisbehave("42")).to.deep.equal({ seed: 42, rate: 0.1 });
    expect(parseMisbehave("42:0.5")).to.deep.equal({ seed: 42, rate: 0.5 });
    expect(parseMisbehave(7)).to.deep.equal({ seed: 7, rate: 0.1 });
    expect(parseMisbehave({ seed: 7, rate: 1 })).to.deep.equal({ seed: 7, rate: 1 });
    for (const bad of ["x", "7:0", "7:1.5", "7:x", "", "1.5"])
      expect(() => parseMisbehave(bad), bad)
        .to.throw(EmulatorOptionError)
        .with.property("message")
        .that.matches(/^emulator option misbehave: expected SEED or SEED:RATE/);
  });

  it("decides the same mischief for the same seed, and another sequence for another seed or boundary", () => {
    const run = (seed: number, label: string) => {
      const m = new Misbehaviour({ seed, rate: 0.3 }, label);
      return Array.from({ length: 200 }, () => m.next(ALL_MISCHIEF) ?? "-").join(",");
    };
    expect(run(5, "usart")).to.equal(run(5, "usart"));
    expect(run(5, "usart")).not.to.equal(run(6, "usart"));
    expect(run(5, "usart")).not.to.equal(run(5, "tkey"));
    const kinds = new Set(run(5, "usart").split(","));
    expect(kinds.size).to.be.greaterThan(8); // every kind is reachable, "-" among them
  });

  it("at rate r misbehaves on about r of the replies, only with the kinds the boundary allows", () => {
    const m = new Misbehaviour({ seed: 1, rate: 0.2 }, "x");
    const got = Array.from({ length: 5000 }, () => m.next(["short", "silence"]));
    const wrong = got.filter((k) => k !== undefined);
    expect(wrong.length / got.length).to.be.within(0.17, 0.23);
    expect(new Set(wrong)).to.deep.equal(new Set(["short", "silence"]));
  });

  it("the serial adapter sends a held-back reply after the next one, and a duplicate twice", async () => {
    const sent: string[] = [];
    const writer = (kinds: (string | undefined)[]) => {
      const engine = new Misbehaviour({ seed: 1, rate: 1 }, "x");
      let i = 0;
      engine.next = () => kinds[i++] as never;
      return new MisbehavingWriter(engine, {
        write: async (b) => void sent.push(Buffer.from(b).toString("hex")),
        sleep: async () => {},
        reset: () => sent.push("reset"),
        log: () => {},
      });
    };
    const w = writer(["reorder", undefined, "duplicate"]);
    await w.write(Uint8Array.of(1));
    await w.write(Uint8Array.of(2));
    await w.write(Uint8Array.of(3));
    expect(sent).to.deep.equal(["02", "01", "03", "03"]);
  });

  it("is off unless asked: the USART and TKey answer as documented, with no misbehave event", async () => {
    const clock = new VirtualClock();
    const dev = new Stm32Device({ clock, seed: 1, profile: "stm32l432kc" });
    await dev.power.on();
    const usart = new UsartClient(connectUsart(dev), { clock });
    expect((await usart.probe()).pid).to.equal(0x435);
    const { dev: tkey, port, clock: tclock } = await poweredTKey();
    const client = new TKeyClient(port, { clock: tclock });
    expect((await client.getNameVersion()).name0).to.equal("tk1 ");
    for (const d of [dev, tkey]) expect(d.events.filter((e) => e.kind === "misbehave")).to.deep.equal([]);
  });

  it("asked for, the USART bootloader and the TKey misbehave and log what they did", async () => {
    const clock = new VirtualClock();
    const dev = new Stm32Device({ clock, seed: 1, profile: "stm32l432kc", options: { misbehave: "3:1" } });
    await dev.power.on();
    const usart = new UsartClient(connectUsart(dev), { clock });
    await usart.probe().catch(() => {});
    const { dev: tkey, port, clock: tclock } = await poweredTKey({ options: { misbehave: "3:1" } });
    await new TKeyClient(port, { clock: tclock }).getNameVersion().catch(() => {});
    for (const d of [dev, tkey])
      expect(d.events.filter((e) => e.kind === "misbehave").length, d.family).to.be.greaterThan(0);
  });
});
