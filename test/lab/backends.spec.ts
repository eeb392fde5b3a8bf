/**
 * Lab power/boot/reset backends against fakes that behave like the real thing: a fake
 * uhubctl and a fake gpioset on PATH (test/fixtures/bin), an emulated SCPI supply and
 * emulated relay boards on real ptys (socat), found through a by-id directory.
 */
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { expect } from "chai";
import { attachSignalStream, dtrRtsBoot, dtrRtsReset } from "../../harness/lab/backends/dtr-rts.js";
import { GpioLine, releaseAllGpio, resetGpioVersion } from "../../harness/lab/backends/gpio.js";
import { LinePower, lineReset } from "../../harness/lab/backends/lines.js";
import { customFrame, lcusFrame, RelayLine } from "../../harness/lab/backends/relay.js";
import { ScpiPower } from "../../harness/lab/backends/scpi-power.js";
import { parseUhubctl, UhubctlPower } from "../../harness/lab/backends/uhubctl-power.js";
import { InfrastructureError } from "../../harness/lab/errors.js";
import { createBytePair } from "../../harness/transport/byte-pair.js";
import { WallClock } from "../../harness/transport/clock.js";
import { byIdDirHooks, RelayBoard, ScpiSupply } from "../rig/lab-emulators.js";
import { rejectionOf as rejection } from "../transport/helpers.js";

const clock = new WallClock();
const FAKE_BIN = join(import.meta.dirname, "..", "fixtures", "bin");
const timeouts = { commandMs: 3000, powerOffMs: 50, enumerateMs: 2000, settleMs: 10 };

/** Runs with the fakes first on PATH and `vars` set; restores the environment after. */
function withEnv(vars: () => Record<string, string>) {
  const saved: Record<string, string | undefined> = {};
  before(() => {
    const all = { PATH: `${FAKE_BIN}${delimiter}${process.env.PATH}`, ...vars() };
    for (const [k, v] of Object.entries(all)) {
      saved[k] = process.env[k];
      process.env[k] = v;
    }
  });
  after(() => {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  });
}

/** The fake gpioset is a node script: far slower to start than libgpiod's C tool. */
const CONFIRM = 1500;
const HUB = "2109:2817 VIA Labs, Inc. USB2.0 Hub, USB 2.10, 4 ports, ppps";

describe("lab/backends: uhubctl (fake uhubctl on PATH)", function () {
  this.timeout(20_000);
  let tmp: string;
  before(async () => {
    tmp = await mkdtemp(join(tmpdir(), "hil-uhubctl-"));
  });
  after(() => rm(tmp, { recursive: true, force: true }));
  withEnv(() => ({ FAKE_UHUBCTL_STATE: join(tmp, "state.json"), FAKE_UHUBCTL_LOG: join(tmp, "calls.log") }));

  const writeState = (ports: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
    writeFile(
      join(tmp, "state.json"),
      JSON.stringify({ hubs: { "1-1": { description: HUB, ports }, ...extra } }),
    );
  const calls = async () =>
    (await readFile(join(tmp, "calls.log"), "utf8").catch(() => ""))
      .split("\n")
      .filter(Boolean)
      .map((l) => JSON.parse(l) as string[]);
  beforeEach(() => rm(join(tmp, "calls.log"), { force: true }));

  it("parses real uhubctl output, both status blocks", () => {
    const out = [
      `Current status for hub 1-1 [${HUB}]`,
      "  Port 2: 0503 power highspeed enable connect [0483:374b STMicroelectronics STM32 STLink 066DFF]",
      "Sent power off request",
      `New status for hub 1-1 [${HUB}]`,
      "  Port 2: 0000 off",
    ].join("\n");
    expect(parseUhubctl(out)).to.deep.equal([
      {
        hub: "1-1",
        when: "current",
        port: 2,
        bits: 0x503,
        powered: true,
        text: "power highspeed enable connect [0483:374b STMicroelectronics STM32 STLink 066DFF]",
      },
      { hub: "1-1", when: "new", port: 2, bits: 0, powered: false, text: "off" },
    ]);
  });

  it("switches the port off and on with -l/-p/-a, reading the new status back", async () => {
    await writeState({ "1": { powered: true }, "2": { powered: true, device: "0483:374b STLink" } });
    const power = new UhubctlPower({ location: "1-1", port: 2 }, "board l432: power", clock, timeouts);
    expect(await power.state()).to.equal("on");
    await power.off();
    expect(await power.state()).to.equal("off");
    await power.cycle(10);
    expect(await power.state()).to.equal("on");
    expect(await calls()).to.deep.equal([
      ["-l", "1-1", "-p", "2"],
      ["-l", "1-1", "-p", "2", "-a", "off"],
      ["-l", "1-1", "-p", "2"],
      ["-l", "1-1", "-p", "2", "-a", "off"],
      ["-l", "1-1", "-p", "2", "-a", "on"],
      ["-l", "1-1", "-p", "2"],
    ]);
    const state = JSON.parse(await readFile(join(tmp, "state.json"), "utf8"));
    expect(state.hubs["1-1"].ports["1"].powered, "other ports untouched").to.equal(true);
  });

  it("a USB 3 hub's two halves must both switch", async () => {
    await writeState(
      { "3": { powered: true } },
      {
        "2-1": {
          description: "2109:0817 VIA Labs, Inc. USB3.0 Hub, USB 3.00, 4 ports, ppps",
          ports: { "3": { powered: true, stuck: true } },
        },
      },
    );
    const raw = JSON.parse(await readFile(join(tmp, "state.json"), "utf8"));
    raw.hubs["1-1"].dual = "2-1";
    await writeFile(join(tmp, "state.json"), JSON.stringify(raw));
    const power = new UhubctlPower({ location: "1-1", port: 3 }, "board tkey-1: power", clock, timeouts);
    const error = await rejection(power.off());
    expect(error).to.be.instanceOf(InfrastructureError);
    expect(error.message).to.match(/uhubctl off: hub 1-1 port 3 still reports 2-1: 0100 power/);
    expect(await power.state()).to.equal("unknown");
  });

  it("a hub that is not there is an infrastructure error with uhubctl's words", async () => {
    await writeState({ "1": { powered: true } });
    const power = new UhubctlPower({ location: "1-9", port: 1 }, "board tkey-4: power", clock, timeouts);
    const error = await rejection(power.on());
    expect(error).to.be.instanceOf(InfrastructureError);
    expect(error.message).to.include("board tkey-4: power: uhubctl -l 1-9 -p 1 -a on exited 1");
    expect(error.message).to.include("No compatible devices detected at location 1-9!");
  });

  it("no uhubctl on PATH is an infrastructure error", async () => {
    const saved = process.env.PATH;
    process.env.PATH = "/nonexistent";
    try {
      const error = await rejection(
        new UhubctlPower({ location: "1-1", port: 1 }, "board x: power", clock, timeouts).on(),
      );
      expect(error).to.be.instanceOf(InfrastructureError);
      expect(error.message).to.match(/board x: power: (uhubctl is not installed|cannot run uhubctl)/);
    } finally {
      process.env.PATH = saved;
    }
  });
});

describe("lab/backends on real ptys (emulated SCPI supply and relay boards)", function () {
  this.timeout(30_000);
  const byId = byIdDirHooks();
  withEnv(() => ({ HIL_SERIAL_BY_ID_DIR: byId.dir }));

  describe("scpi", () => {
    let psu: ScpiSupply;
    const link = () => join(byId.dir, "usb-EMU_PSU_SN000042-if00");
    beforeEach(async () => {
      psu = await new ScpiSupply(2).serve(link());
    });
    afterEach(() => psu.close());
    const spec = {
      byId: "/dev/serial/by-id/usb-EMU_PSU_SN000042-if00",
      channel: 2,
      voltage: 5,
      currentLimit: 0.5,
    };

    it("selects the output, sets voltage and limit once, switches it and reads it back", async () => {
      const power = new ScpiPower(spec, "board wb55: power", clock, timeouts);
      expect(await power.state()).to.equal("off");
      await power.on();
      expect(psu.outputs[1]).to.deep.equal({ on: true, volt: 5, curr: 0.5 });
      expect(psu.outputs[0]!.on, "the other output untouched").to.equal(false);
      expect(await power.state()).to.equal("on");
      await power.cycle(20);
      expect(psu.outputs[1]!.on).to.equal(true);
      expect(psu.commands.filter((c) => c.startsWith("VOLT"))).to.deep.equal(["VOLT 5"]);
      expect(psu.commands.slice(3, 10)).to.deep.equal([
        "INST:NSEL 2",
        "SYST:ERR?",
        "VOLT 5",
        "SYST:ERR?",
        "CURR 0.5",
        "SYST:ERR?",
        "OUTP ON",
      ]);
      expect(await power.identify()).to.equal("EMULATED,PSU-2CH,SN000042,1.0");
    });

    it("an output that does not switch is an infrastructure error", async () => {
      psu.ignoreOutput = true;
      const error = await rejection(new ScpiPower(spec, "board wb55: power", clock, timeouts).on());
      expect(error).to.be.instanceOf(InfrastructureError);
      expect(error.message).to.equal("board wb55: power: output 2 reads back OFF after OUTP ON");
    });

    it("a refused command is reported with the supply's error", async () => {
      const error = await rejection(
        new ScpiPower({ ...spec, channel: 3 }, "board wb55: power", clock, timeouts).on(),
      );
      expect(error).to.be.instanceOf(InfrastructureError);
      expect(error.message).to.include(`the supply refused 'INST:NSEL 3': -222,"Data out of range"`);
    });
  });

  it("scpi: a supply that is not plugged in names what is in by-id", async () => {
    const error = await rejection(
      new ScpiPower({ usbSerial: "NOPE", channel: 1 }, "board wb55: power", clock, {
        ...timeouts,
        commandMs: 300,
      }).on(),
    );
    expect(error).to.be.instanceOf(InfrastructureError);
    expect(error.message).to.match(
      /board wb55: power: the serial port of USB serial NOPE did not appear within 300 ms; .* has /,
    );
  });

  it("relay lcus: sends checksummed frames; no read-back; normallyClosed inverts", async () => {
    const board = await new RelayBoard("lcus").serve(join(byId.dir, "usb-1a86_USB_Serial-if00-port0"));
    try {
      const spec = {
        byId: "/dev/serial/by-id/usb-1a86_USB_Serial-if00-port0",
        protocol: "lcus",
        channel: 2,
      } as const;
      const power = new LinePower(new RelayLine(spec, "board a: power", clock, 2000), clock, 10);
      await power.on();
      await power.off();
      await power.on();
      await clock.sleep(50);
      expect(board.received).to.deep.equal([
        ...lcusFrame(2, true),
        ...lcusFrame(2, false),
        ...lcusFrame(2, true),
      ]);
      expect([...lcusFrame(1, true)]).to.deep.equal([0xa0, 0x01, 0x01, 0xa2]);
      expect([...lcusFrame(1, false)]).to.deep.equal([0xa0, 0x01, 0x00, 0xa1]);
      expect(board.badFrames).to.deep.equal([]);
      expect(await power.state()).to.equal("unknown");
      const nc = new LinePower(
        new RelayLine({ ...spec, channel: 1, normallyClosed: true }, "board a: power", clock, 2000),
        clock,
        10,
      );
      await nc.on();
      await clock.sleep(50);
      expect(board.energized.get(1), "normally closed: power on = coil off").to.equal(false);
    } finally {
      await board.close();
    }
  });

  it("relay numato: switches and reads back through the echo and prompt", async () => {
    const board = await new RelayBoard("numato").serve(
      join(byId.dir, "usb-Numato_Lab_8_Channel_USB_Relay_NUMATO-8CH-0117-if00"),
    );
    try {
      const spec = { usbSerial: "NUMATO-8CH-0117", protocol: "numato", channel: 11 } as const;
      const reset = lineReset(new RelayLine(spec, "board wb55: reset", clock, 2000), clock, 30);
      const boot = new RelayLine({ ...spec, channel: 0 }, "board wb55: boot", clock, 2000);
      await boot.set(true);
      expect(board.energized.get(0)).to.equal(true);
      expect(await boot.get()).to.equal(true);
      await reset.reset();
      expect(board.energized.get(11)).to.equal(false);
      const text = Buffer.from(board.received).toString("latin1");
      expect(text).to.include("relay on B\rrelay read B\rrelay off B\rrelay read B\r");
    } finally {
      await board.close();
    }
  });

  it("relay custom: text frames from the rig file, state query read back", async () => {
    const board = await new RelayBoard("custom-text").serve(join(byId.dir, "usb-ACME_Relay4_R4X-if00"));
    try {
      const custom = {
        encoding: "text",
        on: "ON {channel}\\n",
        off: "OFF {channel}\\n",
        query: "STATE {channel}\\n",
        replyOn: "IS ON",
        replyOff: "IS OFF",
      } as const;
      const line = new RelayLine(
        { usbSerial: "R4X", protocol: "custom", channel: 3, custom },
        "board b: boot",
        clock,
        2000,
      );
      await line.set(true);
      expect(board.energized.get(3)).to.equal(true);
      expect(await line.get()).to.equal(true);
      await line.set(false);
      expect(await line.get()).to.equal(false);
      expect([...customFrame("A0 {channel} 01 {sum}", "hex", 1)]).to.deep.equal([0xa0, 0x01, 0x01, 0xa2]);
    } finally {
      await board.close();
    }
  });
});

for (const version of ["1.6.3", "2.1"]) {
  describe(`lab/backends: gpio (fake gpioset v${version} on PATH)`, function () {
    this.timeout(20_000);
    let dir: string;
    before(async () => {
      dir = await mkdtemp(join(tmpdir(), "hil-gpio-"));
      await writeFile(join(dir, "gpiochip0"), "");
      resetGpioVersion();
    });
    after(async () => {
      await releaseAllGpio();
      resetGpioVersion();
      await rm(dir, { recursive: true, force: true });
    });
    withEnv(() => ({ FAKE_GPIO_DIR: dir, FAKE_GPIOSET_VERSION: version }));
    const held = (line: number) => readFile(join(dir, `gpiochip0-${line}`), "utf8").catch(() => undefined);

    it("holds the line with one gpioset process per value; a change replaces the holder", async () => {
      const line = new GpioLine({ chip: "gpiochip0", line: 17 }, "board l432: boot", clock, 3000, CONFIRM);
      expect(await line.get()).to.equal(undefined);
      await line.set(true);
      const first = await held(17);
      expect(first).to.match(/^\d+ 1 0$/);
      expect(await line.get()).to.equal(true);
      await line.set(true); // unchanged: same holder
      expect(await held(17)).to.equal(first);
      await line.set(false);
      expect(await held(17)).to.match(/^\d+ 0 0$/);
      expect((await held(17))!.split(" ")[0]).not.to.equal(first!.split(" ")[0]);
      const calls = (await readFile(join(dir, "calls.log"), "utf8"))
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l));
      expect(calls[0]).to.deep.equal(["--version"]);
      expect(calls[1]).to.deep.equal(
        version.startsWith("1.")
          ? ["--mode=signal", "gpiochip0", "17=1"]
          : ["--banner", "--chip", "gpiochip0", "17=1"],
      );
    });

    it("reset pulses an active-low line and leaves it released", async () => {
      const line = new GpioLine(
        { chip: "gpiochip0", line: 27, activeLow: true },
        "board l432: reset",
        clock,
        3000,
        CONFIRM,
      );
      await lineReset(line, clock, 20).reset();
      expect(await held(27)).to.match(/^\d+ 0 1$/);
    });

    it("a busy line or a missing chip is an infrastructure error with gpioset's words", async () => {
      await writeFile(join(dir, "gpiochip0-5"), `${process.pid} 1 0`); // held by someone else
      const busy = await rejection(
        new GpioLine({ chip: "gpiochip0", line: 5 }, "board x: power", clock, 3000, CONFIRM).set(true),
      );
      expect(busy).to.be.instanceOf(InfrastructureError);
      expect(busy.message).to.match(
        /board x: power: gpioset .* could not hold gpiochip0 line 5: .*Device or resource busy/,
      );
      const missing = await rejection(
        new GpioLine({ chip: "gpiochip7", line: 1 }, "board x: power", clock, 3000, CONFIRM).set(true),
      );
      expect(missing).to.be.instanceOf(InfrastructureError);
      expect(missing.message).to.include("could not hold gpiochip7 line 1");
    });
  });
}

describe("lab/backends: dtr-rts", () => {
  it("plays the sequences on the stream the board's link attached, with the waits", async () => {
    const { host, device } = createBytePair({ clock });
    const seen: { dtr: boolean; rts: boolean; at: number }[] = [];
    const t0 = clock.now();
    device.onSignals((s) => seen.push({ ...s, at: clock.now() - t0 }));
    const ctx = { boardId: "l432-uart", port: undefined, clock, timeouts };
    const detach = attachSignalStream("l432-uart", host);
    // stm32flash -i '-rts,dtr,-dtr:...' style: BOOT0 on RTS, NRST on DTR.
    await dtrRtsBoot(ctx, {
      bootloader: [{ rts: true, dtr: false }, { dtr: true, waitMs: 30 }, { dtr: false }],
      application: [{ rts: false }],
    }).bootloader();
    await dtrRtsReset(ctx, [{ dtr: true, waitMs: 10 }, { dtr: false }]).reset();
    expect(seen.map(({ dtr, rts }) => ({ dtr, rts }))).to.deep.equal([
      { dtr: false, rts: true },
      { dtr: true, rts: true },
      { dtr: false, rts: true },
      { dtr: true, rts: true },
      { dtr: false, rts: true },
    ]);
    expect(seen[2]!.at - seen[1]!.at).to.be.at.least(25);
    detach();
    const error = await rejection(dtrRtsReset(ctx, [{ dtr: true }]).reset());
    expect(error).to.be.instanceOf(InfrastructureError);
    expect(error.message).to.equal(
      "board l432-uart: reset (dtr-rts): the board has no serial port in the rig file",
    );
  });
});
