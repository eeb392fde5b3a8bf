import { expect } from "chai";
import { buildFusImage, STACK_1, STACK_2, v } from "../../../fixtures/fus/build.js";
import type { FusClient } from "../../../harness/clients/fus/index.js";
import { observeOperations, operationObserver } from "../../../harness/clients/operation.js";
import { Stm32Device } from "../../../harness/devices/stm32/device.js";
import { FUS_TIMING } from "../../../harness/devices/stm32/fus/timing.js";
import { type TimingLine, timeOperationsOn, timingOperations } from "../../../harness/mocha/timing-hooks.js";
import type { Board } from "../../../harness/rig/board.js";
import { VirtualClock } from "../../../harness/sim/virtual-clock.js";
import { fusBench, type Transport } from "../../devices/stm32-fus/helpers.js";

/** Every client operation `work` runs, timed on the bench's clock as hil run times them on a board. */
async function timed(clock: VirtualClock, work: () => Promise<unknown>): Promise<{ lines: TimingLine[] }> {
  const previous = operationObserver();
  const lines: TimingLine[] = [];
  observeOperations(
    timingOperations(
      (_s, _t, body) => body({ retitle() {} }),
      (l) => lines.push(l),
    ),
  );
  timeOperationsOn({ id: "wb55", family: "stm32wb55", emulated: true, clock, info: {} } as unknown as Board);
  try {
    await work();
  } finally {
    timeOperationsOn(undefined);
    observeOperations(previous);
  }
  return { lines };
}

const FUS_PHASE = /^FUS (install|upgrade|stack)/;
const phases = (lines: TimingLine[]) =>
  lines.filter((l) => FUS_PHASE.test(l.op) && l.op !== "FUS install" && !l.op.includes("stage"));

async function install(
  transport: Transport,
  image: Uint8Array,
  opts: {
    factoryStack?: boolean;
    timing?: Record<string, number>;
    before?: (c: FusClient) => Promise<unknown>;
  } = {},
) {
  const { dev, clock, client } = await fusBench(transport, {
    factoryStack: opts.factoryStack ?? false,
    options: opts.timing ? { timing: opts.timing } : {},
  });
  await opts.before?.(client);
  const { lines } = await timed(clock, () => client.fwUpgrade(image));
  return { dev, client, lines };
}

describe("clients/fus: a FUS install's phases as the host sees them, each a timed operation", () => {
  it("USB DFU, first install: verify and first reset, program per 4 KB sector, stack start; they make up the poll", async () => {
    const image = STACK_1();
    const { lines } = await install("usb-dfu", image);
    const seen = phases(lines);
    expect(seen.map((l) => [l.op, l.units])).to.deep.equal([
      ["FUS install: verify and first reset", 1],
      // BLE_HCILayer 1.24.0's shape: 19 sectors in its image footer.
      ["FUS install: program", 19],
      ["FUS stack start", 1],
    ]);
    const poll = lines.find((l) => l.op === "FUS poll");
    expect(poll?.units, "the poll's GET_STATE count").to.be.greaterThan(3);
    const sum = seen.reduce((n, l) => n + l.ms, 0);
    expect(sum).to.be.closeTo(poll?.ms as number, 1e-6);
    // The stack's first answer after an install is late (BLE_Stack_full: 3.6 s); one exchange around it.
    expect(seen[2]!.ms - FUS_TIMING.firstGetStateAfterInstallMs).to.be.within(0, 10);
    // The way back after each FUS reset is not a "re-enumeration after reset": it starts at a poll.
    expect(lines.filter((l) => l.op === "re-enumerate after a FUS reset")).to.have.length(2);
    expect(lines.filter((l) => l.op === "re-enumeration after reset")).to.have.length(0);
  });

  it("the board's FUS figures (timing overlay) move the phases by what they change", async () => {
    const base = phases((await install("usb-dfu", STACK_1())).lines);
    const slow = phases(
      (
        await install("usb-dfu", STACK_1(), {
          timing: { fusInstallPerSectorMs: 500, fusFirstGetStateAfterInstallMs: 2000 },
        })
      ).lines,
    );
    // 100 ms more a sector; the detecting poll may come up to a poll interval later.
    expect(slow[1]!.ms - base[1]!.ms).to.be.within(19 * 100 - 1010, 19 * 100 + 1010);
    expect(slow[2]!.ms - base[2]!.ms).to.be.closeTo(-1600, 1e-6);
  });

  it("USB DFU, a stack over a stack: the old one deleted between the first and second reset", async () => {
    const { lines } = await install("usb-dfu", STACK_2(), {
      factoryStack: false,
      before: (c) => c.fwUpgrade(STACK_1()),
    });
    expect(phases(lines).map((l) => [l.op, l.units])).to.deep.equal([
      ["FUS install: verify and first reset", 1],
      ["FUS install: delete old stack", 1],
      ["FUS install: program", 32],
      ["FUS stack start", 1],
    ]);
  });

  it("USB DFU, a FUS upgrade on a part without a stack: FUS programmed per sector, then FUS idle", async () => {
    const image = buildFusImage({ kind: "fus", version: v(2, 2, 0), sectors: 8, label: "fus-new" });
    const { lines } = await install("usb-dfu", image);
    expect(phases(lines).map((l) => [l.op, l.units])).to.deep.equal([
      ["FUS install: verify and first reset", 1],
      ["FUS upgrade: program", 8],
      ["FUS install: back to idle", 1],
    ]);
  });

  it("USB DFU, a bigger FUS over a stack: the stack's move is in that phase, so it is named apart", async () => {
    const image = buildFusImage({ kind: "fus", version: v(2, 2, 0), sectors: 8, label: "fus-new" });
    const { dev, lines } = await install("usb-dfu", image, { factoryStack: true });
    expect(dev.fus?.nv.stack, "the stack moved down, still installed").to.not.equal(undefined);
    expect(phases(lines).map((l) => [l.op, l.units])).to.deep.equal([
      ["FUS install: verify and first reset", 1],
      ["FUS upgrade: move the stack and program N sectors", 1],
      ["FUS install: stack runs again", 1],
    ]);
  });

  it("USART: the reset shows with the stack's first answer, so program and stack start are one phase", async () => {
    const { lines } = await install("usart", STACK_1());
    const seen = phases(lines);
    // Back after a reset is a resync there, not a re-enumeration: USART phases are named apart.
    expect(seen.map((l) => [l.op, l.units])).to.deep.equal([
      ["FUS install: verify and first reset over USART", 1],
      ["FUS install: program and stack start over USART", 19],
    ]);
    expect(seen.reduce((n, l) => n + l.ms, 0)).to.be.closeTo(
      lines.find((l) => l.op === "FUS poll")?.ms as number,
      1e-6,
    );
  });

  it("with the address given (no device information read) a stack's middle phase is not guessed", async () => {
    const { clock, client } = await fusBench("usb-dfu", { factoryStack: false });
    const { lines: given } = await timed(clock, () => client.fwUpgrade(STACK_1(), { address: 0x080e1000 }));
    expect(phases(given).map((l) => l.op)).to.deep.equal([
      "FUS install: verify and first reset",
      "FUS install: after reset N",
      "FUS stack start",
    ]);
  });
});

describe("clients/fus: FW_DELETE and START_WS phases", () => {
  it("USB DFU: FUS prepares and resets (one name for both), the delete erases and resets, the stack answers", async () => {
    const { clock, client } = await fusBench("usb-dfu", { options: { timing: { fusPrepareMs: 1234.5 } } });
    const lines = (
      await timed(clock, async () => {
        await client.fwDelete();
        await client.fwUpgrade(STACK_1());
        await client.startFus();
        await client.startWirelessStack();
      })
    ).lines.filter((l) => /^FUS prepare|^FUS_(FW_DELETE|START_WS): /.test(l.op));
    expect(lines.map((l) => l.op)).to.deep.equal([
      "FUS prepare and reset",
      "FUS_FW_DELETE: erase the stack",
      "FUS_FW_DELETE: back to idle",
      "FUS prepare and reset",
      "FUS_START_WS: stack answers",
    ]);
    // The board's preparation figure, and a reset and re-enumeration the poll waited out.
    for (const prepare of [lines[0]!, lines[3]!])
      expect(prepare.ms).to.be.within(1234.5 + 300, 1234.5 + 1400);
  });
});

describe("devices/stm32 timing overlay: FUS figures on a WB55", () => {
  const build = (profile: "stm32wb55" | "stm32l432kc", timing: unknown) =>
    new Stm32Device({ clock: new VirtualClock(), seed: 1, profile, options: { timing } });

  it("a WB55 takes fus* keys into its CPU2's timing, beside the flash figures", () => {
    const dev = build("stm32wb55", { fusVerifyMs: 3100, fusUpgradePerSectorMs: 700, pageEraseMs: 25 });
    expect(dev.fus?.timing).to.deep.equal({ ...FUS_TIMING, verifyMs: 3100, fusUpgradePerSectorMs: 700 });
    expect(dev.profile.timing.pageEraseMs).to.equal(25);
  });

  it("refuses a FUS key on a part without FUS, an unknown key and a figure that is not positive, naming the key", () => {
    expect(() => build("stm32l432kc", { fusVerifyMs: 3100 })).to.throw(
      /emulator option timing.fusVerifyMs: expected one of pageEraseMs, .* \(FUS figures only on a stm32wb55, this is a stm32l432\)/,
    );
    expect(() => build("stm32wb55", { fusVerifyMS: 3100 })).to.throw(
      /emulator option timing.fusVerifyMS: expected one of .*fusVerifyMs/,
    );
    expect(() => build("stm32wb55", { fusInstallPerSectorMs: 0 })).to.throw(
      "emulator option timing.fusInstallPerSectorMs: expected a positive number of ms, got 0",
    );
  });
});
