import { expect } from "chai";
import { EmulatorOptionError } from "../../../harness/devices/option-error.js";
import { lineByteMs } from "../../../harness/devices/stm32/usart/line-time.js";
import { bench, randomImage } from "./fixture.js";

const FLASH = 0x0800_0000;

describe("devices/stm32 USART: line time on the board's clock (8E1, 11 bit times a byte)", () => {
  it("charges 11 bit times a byte at the baud rate on virtual time; on wall time only with pace=realtime", () => {
    expect(lineByteMs({}, { kind: "virtual" })).to.equal(11_000 / 115_200);
    expect(lineByteMs({ usartBaud: "57600" }, { kind: "virtual" })).to.equal(11_000 / 57_600);
    expect(lineByteMs({}, { kind: "wall" })).to.equal(0);
    expect(lineByteMs({ pace: "realtime" }, { kind: "wall" })).to.equal(11_000 / 115_200);
    // The host's rate, when the line tells it, wins over usartBaud (the ROM auto-bauds).
    expect(lineByteMs({ usartBaud: 115_200 }, { kind: "virtual" }, 57_600)).to.equal(11_000 / 57_600);
    expect(lineByteMs({}, { kind: "wall" }, 57_600)).to.equal(0);
    expect(() => lineByteMs({ usartBaud: 0 }, { kind: "virtual" })).to.throw(
      EmulatorOptionError,
      /usartBaud/,
    );
    expect(() => lineByteMs({ pace: "fast" }, { kind: "wall" })).to.throw(
      EmulatorOptionError,
      /pace: expected realtime/,
    );
  });

  it("a Get Version costs its 2 bytes out and 5 back in device time", async () => {
    const { client, device } = await bench("stm32l432kc");
    await client.probe();
    const t0 = device.clock.now();
    await client.getVersion();
    // Host: 0x01 0xFE; device: ACK, version, 2 option bytes, ACK.
    expect(device.clock.now() - t0).to.be.closeTo((2 + 5) * (11_000 / 115_200), 1e-6);
  });

  it("writing 64 KB takes its line time at 115200 baud and twice that at 57600", async () => {
    const timeAt = async (usartBaud: number) => {
      const { client, device } = await bench("stm32l432kc", { options: { usartBaud } });
      await client.probe();
      await client.erasePages([...Array(32).keys()]);
      const t0 = device.clock.now();
      await client.write(FLASH, randomImage(3, 64 * 1024));
      return device.clock.now() - t0;
    };
    const fast = await timeAt(115_200);
    const slow = await timeAt(57_600);
    // 256 blocks of 256 bytes, each: command 2 + ACK, address 5 + ACK, length and data and checksum 258 + ACK.
    const lineBytes = 256 * (2 + 1 + 5 + 1 + 258 + 1);
    const programMs = (64 * 1024 * 0.082) / 8;
    expect(fast).to.be.closeTo(lineBytes * (11_000 / 115_200) + programMs, 1);
    expect(slow - programMs).to.be.closeTo(2 * (fast - programMs), 1);
  });
});
