/**
 * The emulated ROM auto-bauds as a real one: the line time of an emulated board's USART is
 * charged at the rate its client opened the link at (the rig's `serial.baudRate`, else
 * 115200), not at one fixed rate. Device time on the virtual clock, not wall time.
 */
import { expect } from "chai";
import { UsartClient } from "../../harness/clients/stm32-usart/index.js";
import type { Board } from "../../harness/rig/board.js";
import { parseRigFile, RigFileError } from "../../harness/rig/load.js";
import { buildRig } from "../../harness/rig/rig.js";
import { openUsartLink } from "../../harness/rig/usart-link.js";
import { Random } from "../../harness/sim/random.js";

const FILE = "rigs/baud.yaml";
const FLASH = 0x0800_0000;

function emulatedL432(serial: string | undefined): Board {
  const text = [
    "name: baud",
    "boards:",
    "  - id: l432",
    "    family: stm32l432",
    "    capabilities: [usart]",
    "    emulated: { seed: 3 }",
    ...(serial ? [`    serial: ${serial}`] : []),
    "",
  ].join("\n");
  return buildRig(parseRigFile(text, FILE), FILE).boards[0]!;
}

/** Device time of writing 64 KB (erased first) over the board's USART link. */
async function writeTime(board: Board): Promise<number> {
  await board.power.on();
  const client = new UsartClient(await openUsartLink(board), { clock: board.clock });
  try {
    await client.probe();
    await client.erasePages([...Array(32).keys()]);
    const r = new Random(5);
    const image = Uint8Array.from({ length: 64 * 1024 }, () => r.byte());
    const t0 = board.clock.now();
    await client.write(FLASH, image);
    return board.clock.now() - t0;
  } finally {
    await client.close();
  }
}

describe("rig: an emulated USART's line time follows the baud its link is opened at", () => {
  it("a rig's serial.baudRate 57600 takes twice the line time per byte of the default 115200", async () => {
    const fast = await writeTime(emulatedL432(undefined));
    const slow = await writeTime(emulatedL432("{ baudRate: 57600 }"));
    // 256 Write Memory commands, each: 2 + ACK, address 5 + ACK, N, 256 data, checksum + ACK.
    const lineBytes = 256 * (2 + 1 + 5 + 1 + 258 + 1);
    const byteMs = (baud: number) => 11_000 / baud;
    // The program time is the same on both: the difference is the line time, doubled per byte.
    expect(slow - fast).to.be.closeTo(lineBytes * (byteMs(57_600) - byteMs(115_200)), 1e-3);
    const programMs = fast - lineBytes * byteMs(115_200);
    expect(programMs).to.be.greaterThan(0);
    expect((slow - programMs) / (fast - programMs)).to.be.closeTo(2, 1e-6);
  });

  it("the rig's baud rate reaches the ROM, which logs the rate it synced at", async () => {
    const board = emulatedL432("{ baudRate: 57600 }");
    expect(board.serialPort?.baudRate).to.equal(57_600);
    await board.power.on();
    const link = await openUsartLink(board);
    await link.write(Uint8Array.of(0x7f));
    expect([...(await link.read(1, { timeoutMs: 1000 }))]).to.deep.equal([0x79]);
    await link.close();
    expect(board.emulator!.events.map((e) => e.detail)).to.include("synced (0x7F at 57600 baud)");
  });

  it("a lab board's twin opens its USART at the lab board's rate", async () => {
    const text = [
      "name: baud",
      "boards:",
      "  - id: l432-lab",
      "    family: stm32l432",
      "    capabilities: [usart]",
      "    serial: { usbSerial: ABC123, baudRate: 57600 }",
      "    power: { backend: manual }",
      "    twin: true",
      "",
    ].join("\n");
    const twin = buildRig(parseRigFile(text, FILE), FILE).boards[1]!;
    expect(twin.twinOf).to.equal("l432-lab");
    await twin.power.on();
    const link = await openUsartLink(twin);
    await link.write(Uint8Array.of(0x7f));
    expect([...(await link.read(1, { timeoutMs: 1000 }))]).to.deep.equal([0x79]);
    await link.close();
    expect(twin.emulator!.events.map((e) => e.detail)).to.include("synced (0x7F at 57600 baud)");
  });

  it("an emulated board's serial takes a baud rate only; a lab board's serial still needs a locator", () => {
    const emulatedWith = (serial: string) => () =>
      parseRigFile(
        [
          "name: baud",
          "boards:",
          "  - id: l432",
          "    family: stm32l432",
          "    capabilities: [usart]",
          "    emulated: {}",
          `    serial: ${serial}`,
          "",
        ].join("\n"),
        FILE,
      );
    expect(emulatedWith("{ usbSerial: ABC, baudRate: 57600 }")).to.throw(
      RigFileError,
      /boards\[0\]\.serial: an emulated board has no serial port locator; its serial takes only baudRate/,
    );
    const lab = [
      "name: baud",
      "boards:",
      "  - id: l432",
      "    family: stm32l432",
      "    capabilities: [usart]",
      "    serial: { baudRate: 57600 }",
      "    power: { backend: manual }",
      "",
    ].join("\n");
    expect(() => parseRigFile(lab, FILE)).to.throw(
      RigFileError,
      /serial: needs byId or usbSerial to find the device/,
    );
  });
});
