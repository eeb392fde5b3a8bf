/**
 * `hil emulate <stm32> --uart-pty PATH --option pace=realtime`: the ROM's autobaud reads the
 * baud rate the client set on the pty (its termios), so line time is charged at the host's
 * rate, not at `usartBaud`.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import { Stm32Device } from "../../harness/devices/stm32/device.js";
import { usartRom } from "../../harness/devices/stm32/usart/port.js";
import { ptyBaudRate, servePty } from "../../harness/expose/uart-pty.js";
import { WallClock } from "../../harness/transport/clock.js";
import { openSerialPort } from "../../harness/transport/serial-port-stream.js";

describe("expose: a served STM32 USART auto-bauds to the pty's baud rate", function () {
  this.timeout(30_000);
  let dir: string;

  before(function () {
    if (spawnSync("which", ["socat"]).status !== 0) this.skip(); // apt-get install -y socat
    dir = mkdtempSync(join(tmpdir(), "hil-usart-baud-"));
  });
  after(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  for (const baud of [57_600, 19_200]) {
    it(`a client that opens the pty at ${baud} baud gets line time at ${baud} (not usartBaud 115200)`, async () => {
      const clock = new WallClock();
      const device = new Stm32Device({
        clock,
        seed: 1,
        profile: "stm32l432kc",
        options: { pace: "realtime" },
      });
      const rom = usartRom(device);
      await device.power.on();
      const bridge = await servePty(join(dir, `usart-${baud}`), clock);
      rom.attach(bridge.line);
      const port = await openSerialPort(bridge.link, { baudRate: baud, parity: "none", clock });
      try {
        expect(await ptyBaudRate(bridge.pty)).to.equal(baud);
        await port.write(Uint8Array.of(0x7f));
        expect([...(await port.read(1, { timeoutMs: 5000 }))]).to.deep.equal([0x79]);
        expect(rom.lineBaud).to.equal(baud);
        expect(device.events.map((e) => e.detail)).to.include(`synced (0x7F at ${baud} baud)`);
      } finally {
        await port.close();
        rom.detach();
        await bridge.close();
      }
    });
  }

  it("a pty that cannot be read leaves the rate unknown (the ROM keeps usartBaud)", async () => {
    expect(await ptyBaudRate(join(dir, "no-such-pty"))).to.equal(undefined);
  });
});
