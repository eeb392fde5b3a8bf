import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import fc from "fast-check";
import { DfuClient } from "../../harness/clients/dfu/client.js";
import { observeOperations, operation, operationObserver } from "../../harness/clients/operation.js";
import { Stm32Device } from "../../harness/devices/stm32/device.js";
import { attachUsbDfu, EmulatedUsbBus } from "../../harness/devices/stm32/dfu/index.js";
import { type TimingLine, timeOperationsOn, timingOperations } from "../../harness/mocha/timing-hooks.js";
import { loadImage } from "../../harness/protocol/dfu/index.js";
import {
  type BoardTimingNight,
  operationName,
  readTimingSamples,
  summariseTiming,
  timingTrends,
} from "../../harness/report/operation-timing.js";
import type { Board } from "../../harness/rig/board.js";
import { VirtualClock } from "../../harness/sim/virtual-clock.js";
import { Transcript } from "../../harness/transport/transcript.js";

describe("report/operation-timing: client operations under one name each", () => {
  it("names the clients' titles consistently, with their units", () => {
    const cases: [string, string, number][] = [
      ["erase 12 pages", "page erase", 12],
      ["erase 1 page", "page erase", 1],
      ["download 37 blocks", "block program", 37],
      ["download 262144 bytes", "DFU download", 256],
      ["mass erase", "mass erase", 1],
      ["write option bytes", "option-byte reload", 1],
      ["re-enumerate", "re-enumeration after reset", 1],
      ["leave DFU to 0x08000000", "leave DFU", 1],
      ["write 1024 bytes at 0x08000000 (4 × Write Memory)", "USART write memory", 4],
      ["read 512 bytes from 0x08000000 (2 × Read Memory)", "USART read memory", 2],
      ["FUS_FW_UPGRADE", "FUS install", 1],
      ["stage 2048 bytes at 0x80d6000", "FUS install: stage image", 2],
      ["FUS_FW_UPGRADE: FUS poll ×14", "FUS poll", 14],
      ["FW_UPGRADE: FUS poll ×14", "FUS poll", 14],
      ["FUS install: verify and first reset", "FUS install: verify and first reset", 1],
      ["FUS install: program 19 sectors", "FUS install: program", 19],
      ["FUS install: program 1 sector", "FUS install: program", 1],
      [
        "FUS install: program 19 sectors and stack start over USART",
        "FUS install: program and stack start over USART",
        19,
      ],
      ["FUS upgrade: program 8 sectors over USART", "FUS upgrade: program over USART", 8],
      ["FUS install: verify and first reset over USART", "FUS install: verify and first reset over USART", 1],
      ["FUS upgrade: program 8 sectors", "FUS upgrade: program", 8],
      ["FUS stack start", "FUS stack start", 1],
      ["FUS_FW_DELETE: prepare and first reset", "FUS prepare and reset", 1],
      ["FUS_START_WS: prepare and reset", "FUS prepare and reset", 1],
      ["FUS install: after reset 2", "FUS install: after reset N", 1],
      ["re-enumerate after a FUS reset", "re-enumerate after a FUS reset", 1],
      ["load app (4096 bytes)", "TKey app load", 4],
      ["FW_CMD_LOAD_APP_DATA ×32", "TKey app data", 32],
      ["image upload 10240 bytes", "MCUboot image upload", 10],
      ["upload 64 bytes from 0x08000000", "upload N bytes from ADDR", 1],
    ];
    for (const [title, op, units] of cases) expect(operationName(title), title).to.deep.equal({ op, units });
  });

  it("gives every title some name, and the same name whatever the numbers in it", () => {
    fc.assert(
      fc.property(fc.string(), fc.nat(), fc.nat(), (words, a, b) => {
        const one = operationName(`${words} ${a}`).op;
        expect(one).to.be.a("string").and.not.equal("");
        expect(operationName(`${words} ${b}`).op).to.equal(one);
      }),
      { numRuns: 200 },
    );
  });
});

describe("mocha/timing-hooks: every operation timed on its board's clock", () => {
  const previous = operationObserver();
  afterEach(() => {
    timeOperationsOn(undefined);
    observeOperations(previous);
  });

  const board = (clock: VirtualClock, id = "hooks-l432") =>
    ({ id, family: "stm32l432", emulated: false, clock, info: { bootloader: "0x91" } }) as unknown as Board;

  it("records nested operations with board time, once with the identity, and not failed ones", async () => {
    const clock = new VirtualClock();
    const lines: TimingLine[] = [];
    observeOperations(
      timingOperations(
        (_s, _t, body) => body({ retitle() {} }),
        (l) => lines.push(l),
      ),
    );
    const source = { kind: "dfu", transcript: new Transcript() };
    // Outside a test on a board: nothing recorded. (The board id is this test's own: the identity goes once per process.)
    await operation(source, "mass erase", () => clock.sleep(5));
    timeOperationsOn(board(clock));
    await operation(source, "download 8192 bytes", async () => {
      await operation(source, "erase 4 pages", () => clock.sleep(88));
      await operation(source, "download 4 blocks", () => clock.sleep(12));
    });
    await operation(source, "start FUS: FUS poll", async (op) => {
      await clock.sleep(30);
      op.retitle("start FUS: FUS poll ×3");
    });
    await operation(source, "write option bytes", async () => {
      throw new Error("errTARGET");
    }).catch(() => {});
    expect(lines.map((l) => [l.op, l.units, l.ms, l.identity])).to.deep.equal([
      ["page erase", 4, 88, { bootloader: "0x91" }],
      ["block program", 4, 12, undefined],
      ["DFU download", 8, 100, undefined],
      ["FUS poll", 3, 30, undefined],
    ]);
    expect(lines.every((l) => l.board === "hooks-l432" && l.family === "stm32l432" && !l.emulated)).to.equal(
      true,
    );
  });

  it("summarises a samples file per board and operation, naming a bad line", async () => {
    const dir = await mkdtemp(join(tmpdir(), "hil-timing-"));
    try {
      const file = join(dir, "timing-samples.jsonl");
      expect(await readTimingSamples(file)).to.deep.equal([]);
      const line = (op: string, units: number, ms: number, extra = {}) =>
        JSON.stringify({ board: "lab-l432", op, units, ms, family: "stm32l432", emulated: false, ...extra });
      await writeFile(
        file,
        [
          line("page erase", 4, 100, { identity: { bootloader: "0x91" } }),
          line("page erase", 2, 40),
          line("mass erase", 1, 25),
        ].join("\n"),
      );
      expect(await readTimingSamples(file)).to.deep.equal([
        {
          board: "lab-l432",
          family: "stm32l432",
          emulated: false,
          identity: { bootloader: "0x91" },
          ops: {
            "mass erase": { count: 1, units: 1, ms: 25, msPerUnit: 25, minMs: 25, maxMs: 25 },
            "page erase": { count: 2, units: 6, ms: 140, msPerUnit: 23.333, minMs: 40, maxMs: 100 },
          },
        },
      ]);
      await writeFile(file, `${line("page erase", 1, 2)}\n{"board":"x","op":"y"}\n`);
      const err = await readTimingSamples(file).catch((e: unknown) => e as Error);
      expect((err as Error).message).to.equal(`${file}:2: expected board, op, units and ms`);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

/** A generated history: `nights` nights of one board whose page erase takes `eraseMs(night)` per page, with noise. */
function generatedNights(
  nights: number,
  eraseMs: (night: number) => number,
  seed = 1,
): { at: string; timing: BoardTimingNight[] }[] {
  let s = seed;
  const noise = () => {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    return (s / 2 ** 31 - 0.5) * 0.06; // ±3 %
  };
  return Array.from({ length: nights }, (_, n) => ({
    at: new Date(Date.UTC(2026, 0, 1 + n, 2)).toISOString(),
    timing: summariseTiming(
      Array.from({ length: 10 }, () => ({
        board: "lab-l432",
        op: "page erase",
        units: 8,
        ms: 8 * eraseMs(n) * (1 + noise()),
      })),
      () => ({ family: "stm32l432", emulated: false }),
    ),
  }));
}

describe("report/operation-timing: drift against the board's own history", () => {
  it("flags a page erase that grows night by night", () => {
    // 22 ms per page, then 1.5 % slower every night from the 10th.
    const history = generatedNights(20, (n) => 22 * (n < 10 ? 1 : 1.015 ** (n - 9)));
    const [erase] = timingTrends(history, undefined, () => 22);
    expect(erase?.op).to.equal("page erase");
    expect(erase?.drift).to.equal(true);
    expect(erase?.change).to.be.greaterThan(0.1);
    expect(erase?.series).to.have.length(20);
    expect(erase?.emulatorMs).to.equal(22);
    expect(erase?.now).to.be.greaterThan((erase?.historyMedian as number) * 1.1);
  });

  it("does not flag a steady board, nor one with too little history", () => {
    const [steady] = timingTrends(generatedNights(60, () => 22));
    expect(steady?.drift).to.equal(false);
    expect(Math.abs(steady?.change as number)).to.be.lessThan(0.03);
    expect(steady?.historyMedian).to.be.closeTo(22, 0.5);
    const [young] = timingTrends(generatedNights(6, (n) => 22 * 2 ** n));
    expect(young?.drift).to.equal(false);
    expect(Number.isNaN(young?.change)).to.equal(true);
  });

  it("skips a timing section it cannot read", () => {
    expect(timingTrends([{ at: "x", timing: "nonsense" as unknown as BoardTimingNight[] }])).to.deep.equal(
      [],
    );
  });
});

const ROM_DFU = { vendorId: 0x0483, productId: 0xdf11 };

describe("mocha/timing-hooks: what the device asked the host to wait (DFU bwPollTimeout)", () => {
  const previous = operationObserver();
  afterEach(() => {
    timeOperationsOn(undefined);
    observeOperations(previous);
  });

  /** A 4-page download on an emulated L432 (erase 22 ms a page, 2 KB blocks), its timing lines. */
  async function download(quirks: { l4EraseStall?: boolean }): Promise<TimingLine[]> {
    const clock = new VirtualClock();
    const device = new Stm32Device({ clock, seed: 3, profile: "stm32l432kc", options: {} });
    const port = attachUsbDfu(device, { quirks });
    await device.power.on();
    const lines: TimingLine[] = [];
    observeOperations(
      timingOperations(
        (_s, _t, body) => body({ retitle() {} }),
        (l) => lines.push(l),
      ),
    );
    timeOperationsOn({ id: "b", family: "stm32l432", emulated: true, clock, info: {} } as unknown as Board);
    const client = await DfuClient.open(new EmulatedUsbBus([port], clock), ROM_DFU, {
      clock,
      alt: 0,
      timeouts: { enumerateMs: 5000 },
    });
    const data = new Uint8Array(8192).map((_, i) => i & 0xff);
    await client.download(loadImage("app.bin", data, { address: 0x0800_0000 }));
    return lines;
  }

  it("sums each GETSTATUS's bwPollTimeout into the operation it came in, not a stalled poll's", async () => {
    const lines = await download({});
    const erase = lines.filter((l) => l.op === "page erase");
    // Each of the 4 pages: one dfuDNBUSY asking 22 ms (the profile's page erase).
    expect(erase.map((l) => [l.units, l.deviceMs])).to.deep.equal([[4, 88]]);
    const whole = lines.find((l) => l.op === "DFU download");
    const program = lines.filter((l) => l.op === "block program");
    const sum = (ls: TimingLine[]) => ls.reduce((n, l) => n + (l.deviceMs ?? 0), 0);
    // The download holds its erases and programs: the device's asks add up.
    expect(whole?.deviceMs).to.equal(sum(erase) + sum(program));
    expect(sum(program)).to.be.above(0);
    const summary = summariseTiming(lines)[0]?.ops["page erase"];
    expect(summary?.deviceMsPerUnit).to.equal(22);

    // The L4 erase stall: the ROM asks for 8 ms a page (less than its erase), the next poll
    // stalls and the host waits the last timeout again: the device asked 8 ms a page all the
    // same, and the report shows it asked for less than the erase took.
    const stalled = (await download({ l4EraseStall: true })).filter((l) => l.op === "page erase");
    expect(stalled.map((l) => l.deviceMs)).to.deep.equal([4 * 8]);
    expect(stalled[0]!.ms).to.be.above(4 * 22);
  });
});
