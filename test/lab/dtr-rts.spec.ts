/**
 * DTR/RTS boot and reset sequences in stm32flash's `-i` syntax, played through the port the
 * control opens itself, on the `serialport` package's own mock binding (SerialPortMock, from
 * @serialport/binding-mock, which serialport ships): ptys have no modem lines. Every `set()`
 * the control makes is recorded with the virtual time it was made at.
 */
import { rm, symlink } from "node:fs/promises";
import { join } from "node:path";
import { expect } from "chai";
import { SerialPortMock } from "serialport";
import sinon from "sinon";
import { dtrRtsBoot, dtrRtsReset, type ModemPortFactory } from "../../harness/lab/backends/dtr-rts.js";
import {
  parseStm32flashSequence,
  SequenceSyntaxError,
  STM32FLASH_DELAY_MS,
} from "../../harness/lab/backends/stm32flash-sequence.js";
import { InfrastructureError } from "../../harness/lab/errors.js";
import { VirtualClock } from "../../harness/sim/virtual-clock.js";
import { makeByIdDir } from "../rig/lab-emulators.js";

const NAME = "usb-FTDI_TTL232R-3V3_FT9XL1ZA-if00-port0";

describe("lab/backends: stm32flash -i sequences", () => {
  it("reads '-dtr,rts,,dtr:-rts': each ',' waits 100 ms after the signal before it, ':' starts the exit", () => {
    expect(parseStm32flashSequence("-dtr,rts,,dtr:-rts")).to.deep.equal({
      bootloader: [{ dtr: false, waitMs: 100 }, { rts: true, waitMs: 200 }, { dtr: true }],
      exit: [{ rts: false }],
    });
    expect(STM32FLASH_DELAY_MS).to.equal(100);
  });

  it("'&' separates without a wait (stm32flash's own example '-rts&dtr,,,rts,-dtr'); no ':' means no exit", () => {
    expect(parseStm32flashSequence("-rts&dtr,,,rts,-dtr")).to.deep.equal({
      bootloader: [{ rts: false }, { dtr: true, waitMs: 300 }, { rts: true, waitMs: 100 }, { dtr: false }],
      exit: [],
    });
    expect(parseStm32flashSequence(":,rts").exit).to.deep.equal([{ waitMs: 100 }, { rts: true }]);
  });

  it("refuses what the dtr-rts backend cannot drive, naming the character", () => {
    const error = (text: string) => {
      try {
        parseStm32flashSequence(text);
      } catch (e) {
        expect(e).to.be.instanceOf(SequenceSyntaxError);
        return (e as Error).message;
      }
      throw new Error(`${text} parsed`);
    };
    expect(error("rts,brk")).to.equal(
      `"rts,brk" at character 5: 'brk' is not a modem line: the dtr-rts backend drives rts and dtr only`,
    );
    expect(error("-3&-2,2")).to.equal(
      `"-3&-2,2" at character 2: '3' is not a modem line: the dtr-rts backend drives rts and dtr only`,
    );
    expect(error("rts;dtr")).to.equal(`"rts;dtr" at character 4: expected rts, dtr, ',' or '&', got ';'`);
    expect(error("rts:dtr,-")).to.equal(`"rts:dtr,-" at character 9: '-' without a signal`);
    expect(error("-,rts")).to.equal(`"-,rts" at character 1: '-' without a signal`);
    expect(error("rts:dtr:rts")).to.equal(`"rts:dtr:rts": more than one ':' (entry:exit)`);
  });
});

describe("lab/backends: dtr-rts on the serialport mock binding", () => {
  let byId: { dir: string; remove(): Promise<void> };
  let link: string;

  before(async () => {
    byId = await makeByIdDir();
    link = join(byId.dir, NAME);
    // Found by identity as a real adapter is: its by-id link must resolve.
    await symlink("/dev/null", link);
  });
  after(async () => {
    await rm(link, { force: true });
    await byId.remove();
  });
  beforeEach(() => {
    SerialPortMock.binding.reset();
    SerialPortMock.binding.createPort(link, { echo: false, record: false });
  });
  afterEach(() => sinon.restore());

  /** Ports made through SerialPortMock, every set() recorded with the clock's time. */
  function recording(clock: VirtualClock) {
    const calls: { dtr: boolean; rts: boolean; at: number }[] = [];
    const opened: { options: Parameters<ModemPortFactory>[0]; port: SerialPortMock }[] = [];
    const factory: ModemPortFactory = (options) => {
      const { path, baudRate, hupcl } = options;
      const port = new SerialPortMock({ path, baudRate, hupcl, autoOpen: false });
      const real = port.set.bind(port);
      sinon.stub(port, "set").callsFake((signals, callback) => {
        calls.push({ dtr: signals.dtr!, rts: signals.rts!, at: clock.now() });
        return real(signals, callback);
      });
      opened.push({ options, port });
      return port;
    };
    return { calls, opened, factory };
  }

  function context(clock: VirtualClock, factory: ModemPortFactory) {
    return {
      boardId: "l432-ftdi",
      port: { byId: `/dev/serial/by-id/${NAME}` },
      clock,
      timeouts: { enumerateMs: 1000, commandMs: 1000 },
      env: { HIL_SERIAL_BY_ID_DIR: byId.dir },
      modemPort: factory,
    };
  }

  it("'-dtr,rts,,dtr:-rts': the levels in order, 100 ms and 200 ms apart, on a port opened with HUPCL off and closed after", async () => {
    const clock = new VirtualClock();
    const { calls, opened, factory } = recording(clock);
    const sequence = parseStm32flashSequence("-dtr,rts,,dtr:-rts");
    const boot = dtrRtsBoot(context(clock, factory), {
      bootloader: sequence.bootloader,
      application: sequence.exit,
    });
    await boot.bootloader();
    // Linux raised both lines on open: each set() carries both levels, the one changed and the one kept.
    expect(calls).to.deep.equal([
      { dtr: false, rts: true, at: 0 },
      { dtr: false, rts: true, at: 100 },
      { dtr: true, rts: true, at: 300 },
    ]);
    await boot.application();
    expect(calls.slice(3)).to.deep.equal([{ dtr: true, rts: false, at: 300 }]);
    expect(opened).to.have.length(2);
    for (const { options, port } of opened) {
      expect(options).to.deep.equal({ path: link, baudRate: 115200, hupcl: false, autoOpen: false });
      expect(port.isOpen, "closed after the sequence").to.equal(false);
    }
  });

  it("a reset pulse holds NRST for its wait; a failing set() is an infrastructure error naming the board", async () => {
    const clock = new VirtualClock();
    const { calls, factory } = recording(clock);
    await dtrRtsReset(context(clock, factory), parseStm32flashSequence("dtr,,-dtr").bootloader).reset();
    expect(calls).to.deep.equal([
      { dtr: true, rts: true, at: 0 },
      { dtr: false, rts: true, at: 200 },
    ]);
    const failing: ModemPortFactory = (options) => {
      const port = new SerialPortMock({ ...options });
      sinon.stub(port, "set").callsFake((_signals, callback) => {
        callback?.(new Error("EIO"));
        return port;
      });
      return port;
    };
    const error = await dtrRtsReset(context(clock, failing), [{ dtr: true }])
      .reset()
      .then(
        () => undefined,
        (e: unknown) => e as Error,
      );
    expect(error).to.be.instanceOf(InfrastructureError);
    expect(error!.message).to.equal("board l432-ftdi: reset (dtr-rts): cannot set DTR/RTS: EIO");
  });
});
