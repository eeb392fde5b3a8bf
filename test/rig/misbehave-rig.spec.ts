/**
 * The `misbehave` personality set in a rig file's `emulated.options` reaches the emulator:
 * the board misbehaves and logs it; a bad value fails the rig's build naming the option.
 */
import { expect } from "chai";
import { parseRigFile } from "../../harness/rig/load.js";
import { buildRig } from "../../harness/rig/rig.js";
import { openTKeyLink } from "../../harness/rig/tkey-link.js";
import { openUsartLink } from "../../harness/rig/usart-link.js";

function rig(misbehave: string) {
  const text = [
    "name: misbehaving",
    "boards:",
    `  - { id: l432-0, family: stm32l432, capabilities: [usart], emulated: { seed: 2, options: { misbehave: "${misbehave}" } } }`,
    `  - { id: tkey-0, family: tkey, capabilities: [], emulated: { seed: 4, options: { misbehave: "${misbehave}" } } }`,
    "",
  ].join("\n");
  return buildRig(parseRigFile(text, "misbehaving.yaml"), "misbehaving.yaml");
}

describe("rig: the misbehave option in a rig file", () => {
  it("makes the STM32 USART and the TKey answer wrongly and log it", async () => {
    const [l432, tkey] = rig("9:1").boards;
    await l432!.power.on();
    const usart = await openUsartLink(l432!);
    await usart.write(Uint8Array.of(0x7f));
    await usart.read(1, { timeoutMs: 20_000 }).catch(() => undefined);
    await usart.close();
    await tkey!.power.on();
    const line = await openTKeyLink(tkey!);
    await line.write(Uint8Array.of(0x10, 0x01)); // FW_CMD_NAME_VERSION
    await line.read(1, { timeoutMs: 20_000 }).catch(() => undefined);
    for (const b of [l432!, tkey!])
      expect(b.emulator!.events.filter((e) => e.kind === "misbehave").length, b.family).to.be.greaterThan(0);
  });

  it("a bad value fails the build with the option's name", () => {
    expect(() => rig("soon")).to.throw(/emulator option misbehave: expected SEED or SEED:RATE/);
  });
});
