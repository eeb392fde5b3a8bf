/**
 * The rig's serial links to emulated boards go through the emulator's `port(name)`: the
 * right line for each family, and a clear error naming the ports a board has otherwise.
 */
import { join } from "node:path";
import { expect } from "chai";
import type { Board } from "../../harness/rig/board.js";
import { loadRigFileSync } from "../../harness/rig/load.js";
import { buildRig } from "../../harness/rig/rig.js";
import { SmpLink } from "../../harness/rig/smp-link.js";
import { openTKeyLink } from "../../harness/rig/tkey-link.js";
import { openUsartLink } from "../../harness/rig/usart-link.js";

async function refusal(p: Promise<unknown>): Promise<string> {
  return p.then(
    () => expect.fail("opened"),
    (e: Error) => e.message,
  );
}

const path = join(import.meta.dirname, "..", "..", "rigs", "emulated.yaml");

describe("rig: serial links to emulated boards", () => {
  let boards: readonly Board[];
  const board = (family: string) => boards.find((b) => b.family === family)!;

  beforeEach(() => {
    boards = buildRig(loadRigFileSync(path), path).boards;
  });

  it("USART: a line to the STM32's ROM, which ACKs 0x7F (AN3155)", async () => {
    const l432 = board("stm32l432");
    await l432.power.on();
    const link = await openUsartLink(l432);
    await link.write(Uint8Array.of(0x7f));
    expect([...(await link.read(1, { timeoutMs: 1000 }))]).to.deep.equal([0x79]);
    await link.close();
  });

  it("a board without the line is refused with the ports it has", async () => {
    const tkey = board("tkey");
    const l432 = board("stm32l432");
    expect(await refusal(openUsartLink(tkey))).to.match(
      /emulated tkey board \S+ has no 'usart' port \(ports: tkey\)/,
    );
    expect(await refusal(openTKeyLink(l432))).to.match(
      /emulated stm32l432 board \S+ has no 'tkey' port \(ports: usart\)/,
    );
    expect(await refusal(SmpLink.open(l432))).to.match(/has no 'console' port \(ports: usart\)/);
  });

  it("SMP: the nRF52840's console, the same line across opens", async () => {
    const nrf = board("nrf52840");
    const emulator = nrf.emulator!;
    await nrf.power.on();
    const a = await SmpLink.open(nrf);
    expect(a.stream).to.equal(emulator.port("console"));
  });
});
