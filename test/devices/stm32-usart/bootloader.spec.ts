/**
 * The emulated USART bootloader, driven by our client over the in-memory pair on virtual
 * time: bytes on the wire, ACK/NACK and what lands in flash (fact sheet §4, §6.7/6.8).
 */
import { expect } from "chai";
import { NackError, UsartClient, UsartTimeoutError } from "../../../harness/clients/stm32-usart/index.js";
import { OB } from "../../../harness/devices/stm32/option-bytes.js";
import { connectUsart } from "../../../harness/devices/stm32/usart/port.js";
import { Command, encodeCrcReply, stm32Crc } from "../../../harness/protocol/stm32-usart/index.js";
import type { HostEnd } from "../../../harness/transport/byte-pair.js";
import { fromHex, toHex } from "../../../harness/transport/hex.js";
import { rejectionOf as rejection } from "../../transport/helpers.js";
import { bench, randomImage, vectorTable } from "./fixture.js";

const FLASH = 0x0800_0000;

/** Raw bytes to the device, and whatever it answers within 50 virtual ms. */
async function raw(host: HostEnd, hex: string, want: number): Promise<string> {
  await host.write(fromHex(hex));
  try {
    return toHex(await host.read(want, { timeoutMs: 50 }));
  } catch (e) {
    return `timeout:${toHex((e as { partial: Uint8Array }).partial)}`;
  }
}

describe("devices/stm32 USART bootloader (AN3155)", () => {
  for (const [profile, pid, pageSize] of [
    ["stm32l432kc", 0x435, 2048],
    ["stm32wb55", 0x495, 4096],
  ] as const) {
    describe(profile, () => {
      it("answers the stm32flash probe with its PID, version 0x31 and the V3.x command list", async () => {
        const { client } = await bench(profile);
        const info = await client.probe();
        expect(info.pid).to.equal(pid);
        expect(info.version).to.equal(0x31);
        expect(info.commands).to.deep.equal([
          0x00,
          0x01,
          0x02,
          0x11,
          0x21,
          0x31,
          0x44,
          0x63,
          0x73,
          0x82,
          0x92,
          // WB55: FUS special read/write (AN5185 Table 15)
          ...(profile === "stm32wb55" ? [0x50, 0x51] : []),
        ]);
      });

      it("writes 64 KB, reads it back, and page-erases it", async () => {
        const { client, device } = await bench(profile);
        await client.probe();
        const image = randomImage(1, 65536);
        const progress: number[] = [];
        client.events.on("block-written", (e) => {
          progress.push(e.index);
        });
        await client.erasePages(Array.from({ length: 65536 / pageSize }, (_, i) => i));
        await client.write(FLASH, image);
        expect(progress.length).to.equal(256);
        expect(device.chip.flash.peek(FLASH, 65536)).to.deep.equal(image);
        expect(await client.read(FLASH, 65536)).to.deep.equal(image);
        await client.erasePages([0, 1]);
        expect(device.chip.flash.isErased(FLASH, 2 * pageSize)).to.equal(true);
        expect(device.chip.flash.peek(FLASH + 2 * pageSize, 16)).to.deep.equal(
          image.subarray(2 * pageSize, 2 * pageSize + 16),
        );
      });
    });
  }

  it("NACKs a Write Memory whose checksum is wrong and writes nothing", async () => {
    const { device } = await bench("stm32l432kc");
    const b = connectUsart(device); // a second line replaces the client's
    expect(await raw(b, "7f", 1)).to.equal("79");
    expect(await raw(b, "31ce", 1)).to.equal("79");
    expect(await raw(b, "0800000008", 1)).to.equal("79");
    const before = device.chip.flash.counters.ops;
    expect(await raw(b, "0311223344" + "00", 1)).to.equal("1f"); // right checksum is 0x03^0x11^0x22^0x33^0x44 = 0x47
    expect(device.chip.flash.counters.ops).to.equal(before);
    expect(device.chip.flash.isErased(FLASH, 8)).to.equal(true);
    // The bootloader is back at command level: a bad complement is NACKed, Get Version answers.
    expect(await raw(b, "0102", 1)).to.equal("1f");
    expect(await raw(b, "01fe", 5)).to.equal("7931000079");
    // An address outside every memory is NACKed at the address phase (V3.1).
    expect(await raw(b, "11ee", 1)).to.equal("79");
    expect(await raw(b, "6000000060", 1)).to.equal("1f");
    // An unknown command is NACKed; 0x43 is not listed beside 0x44.
    expect(await raw(b, "43bc", 1)).to.equal("1f");
  });

  it("ignores everything after a first byte that is not 0x7F (wrong baud) until reset", async () => {
    const { device, rom } = await bench("stm32l432kc");
    const b = connectUsart(device);
    expect(await raw(b, "00", 1)).to.equal("timeout:");
    expect(await raw(b, "7f", 1)).to.equal("timeout:");
    expect(rom.state).to.equal("deaf");
    await device.reset();
    expect(await raw(b, "7f", 1)).to.equal("79");
  });

  it("recovers like stm32flash: NACK to 0x7F when already synced; 0xFF 0x00 until NACK mid-command", async () => {
    const { client } = await bench("stm32l432kc");
    expect(await client.connect()).to.equal("ack");
    expect(await client.connect()).to.equal("nack"); // 0x7F as a command, second 0x7F not its complement
    await client.resync();
    expect((await client.getVersion()).version).to.equal(0x31);
  });

  it("double-ACKs the sync byte when the L412 quirk is on, and the client copes", async () => {
    const { client } = await bench("stm32l432kc", { options: { usartDoubleAck: true } });
    const info = await client.probe();
    expect(info.pid).to.equal(0x435);
    expect(toHex(client.transcript.entries.find((e) => e.dir === "rx")!.bytes!)).to.equal("79");
    expect(client.transcript.render()).to.match(/dropped 1 stray byte/);
  });

  it("refuses reads under RDP level 1 (NACK, or two with the quirk); Readout Unprotect mass-erases and resets", async () => {
    const { client, device } = await bench("stm32l432kc", { options: { usartRdpDoubleNack: true } });
    await client.probe();
    await client.write(FLASH, randomImage(2, 4096));
    await client.readoutProtect(); // resets; the client syncs again
    expect(device.chip.rdpLevel).to.equal(1);
    const err = (await rejection(client.readMemory(FLASH, 16))) as NackError;
    expect(err).to.be.instanceOf(NackError);
    expect(err.nacks).to.equal(2);
    expect(await client.getId()).to.equal(0x435); // Get ID still answers
    await client.readoutUnprotect();
    expect(device.chip.rdpLevel).to.equal(0);
    expect(device.chip.flash.isErased(FLASH, 4096)).to.equal(true);
    expect(await client.readMemory(FLASH, 4)).to.deep.equal(Uint8Array.of(0xff, 0xff, 0xff, 0xff));
  });

  it("Write Protect: ACK, reset, then writes to the area are ACKed and dropped; Write Unprotect lifts it", async () => {
    const { client, device } = await bench("stm32l432kc");
    await client.probe();
    await client.writeProtect([0, 1]);
    expect(device.chip.optionBytes.writeProtectedPages).to.deep.equal([[0, 1]]);
    await client.write(FLASH, Uint8Array.of(1, 2, 3, 4));
    expect(device.chip.flash.isErased(FLASH, 8)).to.equal(true);
    await client.writeUnprotect();
    await client.write(FLASH, Uint8Array.of(1, 2, 3, 4));
    expect(device.chip.flash.peek(FLASH, 8)).to.deep.equal(Uint8Array.of(1, 2, 3, 4, 0xff, 0xff, 0xff, 0xff));
  });

  it("WB55: Extended Erase 0xFFFF never answers; a reset brings the bootloader back; L432 mass-erases", async () => {
    const wb = await bench("stm32wb55");
    const client = new UsartClient(connectUsart(wb.device), {
      clock: wb.device.clock,
      timeouts: { massEraseMs: 2000 },
    });
    await client.probe();
    const err = await rejection(client.massErase());
    expect(err).to.be.instanceOf(UsartTimeoutError);
    expect(wb.rom.state).to.equal("hung");
    await wb.device.reset();
    expect((await client.probe()).pid).to.equal(0x495);

    const l4 = await bench("stm32l432kc");
    await l4.client.probe();
    await l4.client.write(FLASH, randomImage(3, 1024));
    await l4.client.massErase();
    expect(l4.device.chip.flash.isErased(FLASH, 1024)).to.equal(true);
  });

  it("legacy-erase personality: Get lists 0x43 not 0x44; pages, global erase and 0xFF+nonzero (ACK, no erase)", async () => {
    const { device, rom } = await bench("stm32l432kc", { options: { usartLegacyErase: true } });
    const line = connectUsart(device);
    const client = new UsartClient(line, { clock: device.clock });
    const info = await client.probe();
    expect(info.commands).to.include(Command.Erase).and.not.include(Command.ExtendedErase);
    const image = randomImage(5, 3 * 2048);
    await client.write(FLASH, image);
    await client.erasePages([1]);
    expect(device.chip.flash.isErased(FLASH + 2048, 2048)).to.equal(true);
    expect(device.chip.flash.peek(FLASH, 2048)).to.deep.equal(image.subarray(0, 2048));
    expect(device.chip.flash.peek(FLASH + 4096, 2048)).to.deep.equal(image.subarray(4096));
    // On the wire: 43 bc, then N−1 = 0, page 1, XOR = 01.
    expect(await raw(line, "43bc", 1)).to.equal("79");
    expect(await raw(line, "000101", 1)).to.equal("79");
    // AN3155: 0xFF followed by anything but 0x00 is ACKed and erases nothing.
    expect(await raw(line, "43bc", 1)).to.equal("79");
    expect(await raw(line, "ff01", 1)).to.equal("79");
    expect(device.chip.flash.peek(FLASH, 2048)).to.deep.equal(image.subarray(0, 2048));
    // A page list whose checksum is wrong: NACK, nothing erased.
    expect(await raw(line, "43bc", 1)).to.equal("79");
    expect(await raw(line, "000001", 1)).to.equal("1f");
    expect(device.chip.flash.peek(FLASH, 2048)).to.deep.equal(image.subarray(0, 2048));
    await client.massErase();
    expect(device.chip.flash.isErased(FLASH, 3 * 2048)).to.equal(true);
    // Extended Erase is not listed on this personality: NACKed.
    expect(await raw(line, "44bb", 1)).to.equal("1f");
    expect(rom.commands).to.not.include(Command.ExtendedErase);
  });

  it("WB55 observed personality (usartGetListsSpecial=false): Get lists 00 01 02 11 21 31 44 63 73 82 92; 0x50 still answers", async () => {
    const { device } = await bench("stm32wb55", { options: { usartGetListsSpecial: false } });
    const line = connectUsart(device);
    expect(await raw(line, "7f", 1)).to.equal("79");
    // ACK, N = 11 (12 bytes follow), version 0x31, the list of a real WB55 (fact sheet §4.2), ACK.
    expect(await raw(line, "00ff", 14)).to.equal("790b310001021121314463738292");
    expect(await raw(line, "", 1)).to.equal("79");
    // Left out of Get, Special 0x50 is still ACKed: FUS keeps working over it (AN5185 §7.1).
    expect(await raw(line, "50af", 1)).to.equal("79");
  });

  it("WB55: pages at and above SFSA cannot be erased (NACK)", async () => {
    const { client, device } = await bench("stm32wb55");
    await client.probe();
    const sfsa = device.chip.optionBytes.sfsa!;
    const err = await rejection(client.erasePages([sfsa]));
    expect(err).to.be.instanceOf(NackError);
  });

  it("Go jumps into the application and the bootloader stops answering", async () => {
    const { client, device } = await bench("stm32l432kc");
    await client.probe();
    await client.write(FLASH, vectorTable(FLASH));
    await client.go(FLASH);
    expect(device.mode.kind).to.equal("application");
    expect(await rejection(client.getVersion())).to.be.instanceOf(UsartTimeoutError);
  });

  it("writes option bytes from their base only, then resets", async () => {
    const { client, device } = await bench("stm32l432kc");
    await client.probe();
    const ob = device.chip.optionBytes.raw;
    const base = device.profile.optionBytes.base;
    expect(await rejection(client.writeMemory(base + 8, ob.subarray(8, 16)))).to.be.instanceOf(NackError);
    const resets = device.events.filter((e) => e.kind === "reset").length;
    ob[0] = 0xbb; // RDP level 1
    ob[4] = ~0xbb & 0xff;
    await client.writeMemory(base, ob.subarray(0, 8));
    expect(device.events.filter((e) => e.kind === "reset").length).to.equal(resets + 1);
    expect(device.chip.rdpLevel).to.equal(1);
    expect(device.chip.optionBytes.storedWord(OB.OPTR) & 0xff).to.equal(0xbb);
  });

  it("answers Get Checksum in both forms: AN3155 (words, poly, init) and stm32flash (bytes)", async () => {
    const { client, device } = await bench("stm32l432kc", { options: { usartGetChecksum: true } });
    const info = await client.probe();
    expect(info.commands).to.include(Command.GetChecksum);
    const image = randomImage(4, 1024);
    await client.write(FLASH, image);
    const expected = stm32Crc(image);
    expect(await client.getChecksum(FLASH, 1024, { form: "an3155" })).to.equal(expected);
    expect(await client.getChecksum(FLASH, 1024, { form: "stm32flash" })).to.equal(expected);
    expect(await client.getChecksum(FLASH, 1024, { form: "an3155", init: 0 })).to.equal(
      stm32Crc(image, undefined, 0),
    );
    expect(device.events.filter((e) => /Get Checksum \(stm32flash form\)/.test(e.detail))).to.have.length(1);
  });

  // A loaded host (our client and socat on a busy machine) was seen taking 80–410 ms to send
  // the polynomial: 150 ms falls in the first quiet window, 400 ms after the ACK stm32flash's
  // form gets, which the late host takes for its polynomial's.
  for (const lateMs of [150, 400]) {
    it(`Get Checksum: a polynomial sent ${lateMs} ms after the length ACK is still the AN3155 form`, async () => {
      const { client, device } = await bench("stm32l432kc", { options: { usartGetChecksum: true } });
      await client.probe();
      const image = randomImage(5, 1024);
      await client.write(FLASH, image);
      const b = connectUsart(device); // the bootloader is synced already: raw commands from here
      expect(await raw(b, "a15e", 1)).to.equal("79");
      expect(await raw(b, "0800000008", 1)).to.equal("79");
      expect(await raw(b, "0000010001", 1)).to.equal("79"); // 256 words
      await device.clock.sleep(lateMs);
      expect(await raw(b, "04c11db7" + "6f", 1)).to.equal("79"); // polynomial
      expect(await raw(b, "ffffffff" + "00", 1)).to.equal("79"); // init
      expect(toHex(await b.read(6, { timeoutMs: 50 }))).to.equal(
        `79${toHex(encodeCrcReply(stm32Crc(image)))}`,
      );
      expect(await raw(b, "", 1)).to.equal("timeout:"); // and nothing more
      expect(
        device.events.filter((e) => /Get Checksum \(AN3155 form\) 0x8000000\+1024/.test(e.detail)),
      ).to.have.length(1);
    });
  }

  it("Get Checksum: stm32flash's form gets each reply within stm32flash's 500 ms read timeout", async () => {
    const { client, device } = await bench("stm32l432kc", { options: { usartGetChecksum: true } });
    await client.probe();
    const image = randomImage(6, 1024);
    await client.write(FLASH, image);
    const b = connectUsart(device); // the bootloader is synced already: raw commands from here
    expect(await raw(b, "a15e", 1)).to.equal("79");
    expect(await raw(b, "0800000008", 1)).to.equal("79");
    expect(await raw(b, "0000040004", 1)).to.equal("79"); // 1024 bytes
    // stm32flash reads the second ACK, then the CRC, with 500 ms reads (serial_posix.c TERMIOS_TIMEOUT_MS).
    expect(toHex(await b.read(1, { timeoutMs: 500 }))).to.equal("79");
    expect(toHex(await b.read(5, { timeoutMs: 500 }))).to.equal(toHex(encodeCrcReply(stm32Crc(image))));
    expect(
      device.events.filter((e) => /Get Checksum \(stm32flash form\) 0x8000000\+1024/.test(e.detail)),
    ).to.have.length(1);
  });

  it("frames Special 0x50 / Extended Special 0x51 through a plugged handler", async () => {
    const b = await bench("stm32wb55");
    b.rom.setSpecialHandler({
      special: (op, data) =>
        op === 0x54 ? { data: Uint8Array.of(...data, 0xaa), status: Uint8Array.of(0) } : undefined,
      extendedSpecial: (op, d1, d2) =>
        op === 0x55 ? Uint8Array.of(d1.length, d2.length >> 8, d2.length & 0xff) : undefined,
    });
    const info = await b.client.probe();
    expect(info.commands.slice(-2)).to.deep.equal([0x50, 0x51]);
    expect(await b.client.special(0x54, Uint8Array.of(1, 2))).to.deep.equal({
      data: Uint8Array.of(1, 2, 0xaa),
      status: Uint8Array.of(0),
    });
    expect(await b.client.extendedSpecial(0x55, Uint8Array.of(9), new Uint8Array(1000))).to.deep.equal(
      Uint8Array.of(1, 0x03, 0xe8),
    );
    expect(await rejection(b.client.special(0x99, new Uint8Array(0)))).to.be.instanceOf(NackError);
  });

  it("an opcode the handler does not map is NACKed at the opcode packet (AN5185 §7.1.1/7.1.2)", async () => {
    const { device, rom } = await bench("stm32wb55");
    let calls = 0;
    rom.setSpecialHandler({
      supports: (command, op) => (command === "special" ? op === 0x54 : op === 0x52),
      special: () => {
        calls++;
        return { data: new Uint8Array(0), status: Uint8Array.of(0) };
      },
      extendedSpecial: () => {
        calls++;
        return Uint8Array.of(0);
      },
    });
    const line = connectUsart(device);
    expect(await raw(line, "7f", 1)).to.equal("79");
    // 0x50 ACKed, then opcode 0x5A + XOR: NACK right there, before any address packet.
    expect(await raw(line, "50af", 1)).to.equal("79");
    expect(await raw(line, "005a5a", 1)).to.equal("1f");
    expect(await raw(line, "51ae", 1)).to.equal("79");
    expect(await raw(line, "005454", 1)).to.equal("1f");
    // A mapped opcode is ACKed and the command goes on.
    expect(await raw(line, "50af", 1)).to.equal("79");
    expect(await raw(line, "005454", 1)).to.equal("79");
    expect(calls).to.equal(0);
  });

  it("a corrupted byte on the line (fault plan) NACKs that block and nothing of it is written", async () => {
    const { client, device } = await bench("stm32l432kc", { faults: ["event:usart.write#2=serial-corrupt"] });
    await client.probe();
    const image = randomImage(5, 1024);
    const err = await rejection(client.write(FLASH, image));
    expect(err).to.be.instanceOf(NackError);
    expect(device.chip.flash.peek(FLASH, 256)).to.deep.equal(image.subarray(0, 256));
    expect(device.chip.flash.isErased(FLASH + 256, 768)).to.equal(true);
    await client.recover();
    await client.write(FLASH + 256, image.subarray(256));
    expect(device.chip.flash.peek(FLASH, 1024)).to.deep.equal(image);
  });
});
