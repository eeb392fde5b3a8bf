import { readFileSync } from "node:fs";
import { join } from "node:path";
import { expect } from "chai";
import type { Nrf52840McubootDevice } from "../../harness/devices/nrf52840-mcuboot/device.js";
import type { SimNorDevice } from "../../harness/devices/sim-nor/device.js";
import { buildImage } from "../../harness/devices/sim-nor/image.js";
import { Stm32Chip } from "../../harness/devices/stm32/chip.js";
import type { Stm32Device } from "../../harness/devices/stm32/device.js";
import { factoryNv } from "../../harness/devices/stm32/fus/cpu2.js";
import { OB } from "../../harness/devices/stm32/option-bytes.js";
import { isPrivate, parsePemKey, parseVersion, signImage } from "../../harness/protocol/mcuboot/index.js";
import { steppedBoard } from "../../harness/report/steps.js";
import type { Board } from "../../harness/rig/board.js";
import { loadRigFileSync, projectRoot } from "../../harness/rig/load.js";
import { buildRig } from "../../harness/rig/rig.js";
import { strategyFor } from "../../harness/rig/strategies/index.js";
import type { BootControl } from "../../harness/seams/controls.js";
import type { Flash } from "../../harness/sim/flash.js";
import { fakeBoard } from "./fake-board.js";

function emulatedBoards(): Map<string, Board> {
  const path = join(projectRoot(), "rigs", "emulated.yaml");
  return new Map(buildRig(loadRigFileSync(path), path).boards.map((b) => [b.id, b]));
}

/** The test-only key the emulated nRF52840's MCUboot is provisioned with. */
function testKey() {
  const pem = readFileSync(join(projectRoot(), "fixtures", "mcuboot", "test-only-ecdsa-p256.pem"), "utf8");
  const key = parsePemKey(pem, "test-only-ecdsa-p256");
  if (!isPrivate(key)) throw new Error("not a private key");
  return key;
}

function same(a: Flash, b: Flash): void {
  const sa = a.snapshot().sectors;
  const sb = b.snapshot().sectors;
  expect(sa.length, a.name).to.equal(sb.length);
  for (const [i, s] of sa.entries()) expect(s, `${a.name} sector ${i}`).to.deep.equal(sb[i]);
}

/** Flash, OTP and option bytes dirtied the way a test leaves them. */
function dirty(dev: Stm32Device): void {
  dev.chip.flash.load(dev.profile.flash.base + 0x800, Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8));
  dev.chip.otp.load(dev.profile.otp.base, Uint8Array.of(9, 9, 9, 9, 9, 9, 9, 9));
  dev.chip.optionBytes.setWord(OB.OPTR, (dev.chip.optionBytes.storedWord(OB.OPTR) & ~0xff) | 0xbb);
}

describe("board strategy", () => {
  describe("emulated factoryReset", () => {
    const boards = emulatedBoards();

    it("STM32L432: blank flash and OTP, factory option bytes, the image at the flash base, in the ROM", async () => {
      const board = boards.get("l432-0")!;
      const dev = board.emulator as Stm32Device;
      await dev.power.on();
      dirty(dev);
      const image = Uint8Array.from({ length: 1024 }, (_, i) => (i * 7) & 0xff);
      await board.strategy.factoryReset({ image });

      const factory = new Stm32Chip(dev.profile, dev.seed);
      factory.flash.load(dev.profile.flash.base, image);
      same(dev.chip.flash, factory.flash);
      same(dev.chip.otp, factory.otp);
      expect(dev.chip.optionBytes.raw).to.deep.equal(factory.optionBytes.raw);
      expect(dev.mode.kind).to.equal("bootloader");
      expect(board.strategy.afterFactory).to.equal("rom-dfu");
      expect(board.strategy.restores).to.include.members(["flash", "otp", "option-bytes"]);
    });

    it("STM32WB55: FUS with a stack by default, or none (SFSA at FUS, SBRV at its base)", async () => {
      const board = boards.get("wb55-0")!;
      const dev = board.emulator as Stm32Device;
      const factory = new Stm32Chip(dev.profile, dev.seed);
      const sfsa = factory.optionBytes.storedWord(OB.SFSA);

      dirty(dev);
      await board.strategy.factoryReset({ stack: false });
      expect(dev.chip.optionBytes.storedWord(OB.SFSA)).to.equal(((sfsa & ~0xff) | 0xf4) >>> 0);
      expect(dev.chip.optionBytes.storedWord(OB.SBRV)).to.equal(0x3d800);
      expect(dev.fus!.nv).to.deep.equal(factoryNv(false, 0xf4));
      same(dev.chip.flash, factory.flash);

      dirty(dev);
      await board.strategy.factoryReset();
      expect(dev.chip.optionBytes.raw).to.deep.equal(factory.optionBytes.raw);
      expect(dev.fus!.nv).to.deep.equal(factoryNv(true, sfsa & 0xff));
      same(dev.chip.otp, factory.otp);
      expect(dev.mode.kind).to.equal("bootloader");
    });

    it("nRF52840 + MCUboot: everything erased, the image in the primary slot, booted", async () => {
      const board = boards.get("nrf52840-0")!;
      const dev = board.emulator as Nrf52840McubootDevice;
      const payload = Uint8Array.from({ length: 3000 }, (_, i) => (i * 13) & 0xff);
      const image = signImage(payload, {
        key: testKey(),
        version: parseVersion("1.0.0"),
        headerSize: 0x200,
        slotSize: dev.layout.primary.size,
        padHeader: true,
      });
      dev.flash.load(dev.layout.secondary.offset, Uint8Array.of(1, 2, 3, 4));
      await board.strategy.factoryReset({ image });
      expect(dev.state).to.equal("running");
      expect(dev.primary.read(0, image.length)).to.deep.equal(image);
      expect(dev.flash.isErased(dev.layout.secondary.offset, 4)).to.equal(true);
    });

    it("sim-nor: the image in the primary slot, the rest erased, powered off", async () => {
      const board = [...boards.values()].find((b) => b.family === "sim-nor")!;
      const dev = board.emulator as SimNorDevice;
      await dev.power.on();
      const v1 = buildImage(
        1,
        Uint8Array.from({ length: 500 }, (_, i) => i & 0xff),
      );
      dev.flash.load(dev.slotAddress("secondary"), Uint8Array.of(1, 2, 3, 4));
      await board.strategy.factoryReset({ image: v1 });
      expect(await dev.power.state()).to.equal("off");
      expect(dev.flash.peek(dev.slotAddress("primary"), v1.length)).to.deep.equal(v1);
      expect(dev.flash.isErased(dev.slotAddress("secondary"), 4)).to.equal(true);
    });
  });

  describe("lab strategies", () => {
    /** A lab board whose power and boot controls record their calls. */
    function recordingBoard(family: Board["family"], boot: boolean, startsIn?: "bootloader" | "application") {
      const calls: string[] = [];
      const base = fakeBoard({ id: "lab-1", family, emulated: false });
      const power = {
        backend: "fake",
        on: async () => void calls.push("power on"),
        off: async () => void calls.push("power off"),
        cycle: async () => void calls.push("power cycle"),
        state: async () => "on" as const,
      };
      const bootControl: BootControl = {
        backend: "fake",
        bootloader: async () => void calls.push("boot bootloader"),
        application: async () => void calls.push("boot application"),
      };
      const { strategy: _, ...rest } = base;
      const plain = {
        ...rest,
        power,
        boot: boot ? bootControl : undefined,
        ...(startsIn ? { startsIn } : {}),
      };
      const board: Board = { ...plain, strategy: strategyFor(plain) };
      return { board, calls };
    }

    it("STM32: factoryReset is BOOT0 high and a power cycle; memories are left alone, and said so", async () => {
      const { board, calls } = recordingBoard("stm32wb55", true);
      await board.strategy.factoryReset({ image: new Uint8Array(4) });
      expect(calls).to.deep.equal(["boot bootloader", "power cycle"]);
      expect(board.strategy.limits.join(" ")).to.match(/does not restore flash/);
      expect(board.strategy.restores).to.deep.equal([]);
      calls.length = 0;
      await board.strategy.transition("app");
      await board.strategy.transition("off");
      expect(calls).to.deep.equal(["boot application", "power cycle", "power off"]);
    });

    it("STM32 without boot control: the strapping decides, a state it cannot reach is an error naming the board", async () => {
      const { board, calls } = recordingBoard("stm32l432", false, "bootloader");
      await board.strategy.transition("rom-usart");
      expect(calls).to.deep.equal(["power cycle"]);
      await expectRejects(
        board.strategy.transition("app"),
        /lab-1 has no boot control and starts in its bootloader/,
      );
    });

    it("TKey: factoryReset and firmware are a replug; a state the family lacks is refused", async () => {
      const { board, calls } = recordingBoard("tkey", false);
      await board.strategy.factoryReset();
      expect(calls).to.deep.equal(["power cycle"]);
      await expectRejects(board.strategy.transition("rom-dfu"), /lab-1 \(tkey\) has no state 'rom-dfu'/);
    });

    it("the stepped board's strategy drives the stepped controls", async () => {
      const { board, calls } = recordingBoard("stm32l432", true);
      const stepped = steppedBoard(board);
      await stepped.strategy.transition("rom-dfu");
      expect(calls).to.deep.equal(["boot bootloader", "power cycle"]);
      expect(stepped.strategy.states).to.deep.equal(board.strategy.states);
    });
  });
});

async function expectRejects(p: Promise<unknown>, pattern: RegExp): Promise<void> {
  try {
    await p;
  } catch (e) {
    expect((e as Error).message).to.match(pattern);
    return;
  }
  expect.fail("expected a rejection");
}
