import { expect } from "chai";
import { annotateUsart } from "../../../harness/protocol/stm32-usart/index.js";
import { Transcript } from "../../../harness/transport/transcript.js";
import { bench } from "../../devices/stm32-usart/fixture.js";

const lines = (t: Transcript) =>
  t
    .renderAnnotated()
    .split("\n")
    .filter(Boolean)
    .map((l) => l.replace(/^ *[\d.]+ ms /, ""));

describe("protocol/stm32-usart: transcript in AN3155 terms", () => {
  it("reads each command as one line: the operation, the frames sent, the replies", async () => {
    const { client } = await bench("stm32l432kc");
    await client.connect();
    await client.getId();
    await client.writeMemory(0x0800_0000, new Uint8Array(8).fill(0x11));
    expect(lines(client.transcript)).to.deep.equal([
      "sync → sync 0x7F → ACK",
      "Get ID → GetId (0x02) → ACK → 1 byte → 2 bytes → ACK",
      "Write Memory 0x08000000+8 → WriteMemory (0x31) → ACK → address 0x08000000 → ACK → 9 bytes + checksum → ACK",
    ]);
  });

  it("names a NACK, a resync and a read that timed out", () => {
    const t = new Transcript();
    t.annotator = annotateUsart;
    t.note("Read Memory 0x1fff7800+4");
    t.record({ dir: "tx", bytes: Uint8Array.of(0x11, 0xee) });
    t.record({ dir: "rx", bytes: Uint8Array.of(0x1f) });
    t.note("resync");
    t.record({ dir: "tx", bytes: Uint8Array.of(0xff, 0x00) });
    t.record({ dir: "rx", bytes: new Uint8Array(0), note: "timeout after 500 ms, wanted 1" });
    expect(lines(t)).to.deep.equal([
      "Read Memory 0x1fff7800+4 → ReadMemory (0x11) → NACK",
      "resync → resync 0xFF 0x00 → nothing (timeout after 500 ms, wanted 1)",
    ]);
  });
});
