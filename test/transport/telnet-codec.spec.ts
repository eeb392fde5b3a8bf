/**
 * Telnet framing and RFC 2217 COM-PORT-OPTION codecs: properties over any bytes and any
 * split of the stream into chunks, plus vectors recorded from ser2net 4.3.11
 * (`ser2net -n -c` with `accepter: telnet(rfc2217),tcp,127.0.0.1,PORT` in front of a socat
 * pty; a node client wrote the requests and logged the bytes that came back).
 */
import { expect } from "chai";
import fc from "fast-check";
import {
  ComPort,
  Control,
  comPortPayload,
  decodeComPortReply,
  encodeComPortRequest,
  PARITY_CODES,
  Purge,
} from "../../harness/transport/rfc2217-codec.js";
import {
  DO,
  encodeNegotiation,
  encodeSubnegotiation,
  escapeIac,
  OPT_COM_PORT,
  TelnetDecoder,
  type TelnetEvent,
  WILL,
} from "../../harness/transport/telnet-codec.js";

const hex = (text: string) => Uint8Array.from(text.split(" ").map((b) => Number.parseInt(b, 16)));

/** Splits `bytes` at the given cut points (any, sorted, duplicates allowed). */
function chunks(bytes: Uint8Array, cuts: number[]): Uint8Array[] {
  const at = [0, ...cuts.map((c) => c % (bytes.length + 1)).sort((a, b) => a - b), bytes.length];
  return at.slice(1).map((end, i) => bytes.subarray(at[i]!, end));
}

function decodeAll(parts: Uint8Array[]): TelnetEvent[] {
  const decoder = new TelnetDecoder();
  return parts.flatMap((p) => decoder.push(p));
}

function dataOf(events: TelnetEvent[]): number[] {
  return events.flatMap((e) => (e.kind === "data" ? [...e.bytes] : []));
}

describe("transport/telnet-codec", () => {
  it("escaping doubles exactly the 0xFF bytes, and decoding gives the data back across any chunking", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.array(fc.nat(), { maxLength: 8 }), (data, cuts) => {
        const wire = escapeIac(data);
        expect(wire.length).to.equal(data.length + data.filter((b) => b === 0xff).length);
        const events = decodeAll(chunks(wire, cuts));
        expect(events.every((e) => e.kind === "data")).to.equal(true);
        expect(dataOf(events)).to.deep.equal([...data]);
      }),
    );
  });

  it("commands and subnegotiations between data runs come out in order, payload 0xFF unescaped", () => {
    const piece = fc.oneof(
      fc.uint8Array({ minLength: 1, maxLength: 20 }).map((bytes) => ({ kind: "data" as const, bytes })),
      fc
        .record({ verb: fc.constantFrom(0xfb, 0xfc, 0xfd, 0xfe), option: fc.nat(255) })
        .map((n) => ({ kind: "negotiation" as const, ...n })),
      fc
        .record({ option: fc.nat(255), payload: fc.uint8Array({ maxLength: 12 }) })
        .map((s) => ({ kind: "subnegotiation" as const, ...s })),
    );
    fc.assert(
      fc.property(
        fc.array(piece, { maxLength: 10 }),
        fc.array(fc.nat(), { maxLength: 8 }),
        (pieces, cuts) => {
          const wire = Buffer.concat(
            pieces.map((p) =>
              p.kind === "data"
                ? escapeIac(p.bytes)
                : p.kind === "negotiation"
                  ? encodeNegotiation(p.verb as 0xfb, p.option)
                  : encodeSubnegotiation(p.option, p.payload),
            ),
          );
          const got = decodeAll(chunks(new Uint8Array(wire), cuts)).map((e) =>
            e.kind === "data"
              ? { kind: e.kind, bytes: [...e.bytes] }
              : e.kind === "subnegotiation"
                ? { ...e, payload: [...e.payload] }
                : e,
          );
          // Adjacent data pieces arrive as one run (or split at chunk edges): compare data as one sequence.
          const merged: unknown[] = [];
          for (const e of got) {
            const last = merged.at(-1) as { kind: string; bytes: number[] } | undefined;
            if (e.kind === "data" && last?.kind === "data") last.bytes.push(...e.bytes);
            else merged.push(e.kind === "data" ? { kind: "data", bytes: [...e.bytes] } : e);
          }
          const want: unknown[] = [];
          for (const p of pieces) {
            const last = want.at(-1) as { kind: string; bytes: number[] } | undefined;
            if (p.kind === "data" && last?.kind === "data") last.bytes.push(...p.bytes);
            else if (p.kind === "data") want.push({ kind: "data", bytes: [...p.bytes] });
            else if (p.kind === "subnegotiation") want.push({ ...p, payload: [...p.payload] });
            else want.push(p);
          }
          expect(merged).to.deep.equal(want);
        },
      ),
    );
  });

  it("refuses an option or payload value that is not a byte, naming it", () => {
    expect(() => encodeNegotiation(WILL, 256)).to.throw(/option must be a byte.*256/);
    expect(() => comPortPayload(ComPort.setParity, -1)).to.throw(/value must be a byte, got -1/);
    expect(() => comPortPayload(13, 0)).to.throw(/command must be 0\.\.12, got 13/);
    expect(() => comPortPayload(ComPort.setBaudRate, 2 ** 32)).to.throw(/32-bit/);
  });
});

describe("transport/rfc2217-codec", () => {
  it("every request decodes back from the server's reply form (code + 100), baud rates as 4 bytes big-endian", () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.record({ command: fc.constant(ComPort.setBaudRate), value: fc.nat(0xffff_ffff) }),
          fc.record({ command: fc.integer({ min: 2, max: 12 }), value: fc.nat(255) }),
        ),
        ({ command, value }) => {
          const wire = encodeComPortRequest(command, value);
          const events = new TelnetDecoder().push(wire);
          expect(events).to.have.length(1);
          const sub = events[0] as Extract<TelnetEvent, { kind: "subnegotiation" }>;
          expect(sub.option).to.equal(OPT_COM_PORT);
          expect(sub.payload[0]).to.equal(command);
          const asReply = Uint8Array.from(sub.payload);
          asReply[0] = command + 100;
          expect(decodeComPortReply(asReply).value).to.equal(value);
          expect(decodeComPortReply(asReply).command).to.equal(command);
        },
      ),
    );
  });

  it("requests are byte for byte what ser2net 4.3.11 answers to (recorded)", () => {
    // > request sent, < ser2net's reply, on a pty started at 115200n81.
    const recorded: [Uint8Array, string, string][] = [
      [
        encodeComPortRequest(ComPort.setBaudRate, 57600),
        "ff fa 2c 01 00 00 e1 00 ff f0",
        "ff fa 2c 65 00 00 e1 00 ff f0",
      ],
      [encodeComPortRequest(ComPort.setDataSize, 8), "ff fa 2c 02 08 ff f0", "ff fa 2c 66 08 ff f0"],
      [
        encodeComPortRequest(ComPort.setParity, PARITY_CODES.even),
        "ff fa 2c 03 03 ff f0",
        "ff fa 2c 67 03 ff f0",
      ],
      [encodeComPortRequest(ComPort.setStopSize, 1), "ff fa 2c 04 01 ff f0", "ff fa 2c 68 01 ff f0"],
      [
        encodeComPortRequest(ComPort.setControl, Control.noFlowControl),
        "ff fa 2c 05 01 ff f0",
        "ff fa 2c 69 01 ff f0",
      ],
      [encodeComPortRequest(ComPort.purgeData, Purge.both), "ff fa 2c 0c 03 ff f0", "ff fa 2c 70 03 ff f0"],
    ];
    for (const [request, wire, reply] of recorded) {
      expect([...request]).to.deep.equal([...hex(wire)]);
      const [event] = new TelnetDecoder().push(hex(reply));
      const decoded = decodeComPortReply((event as { payload: Uint8Array }).payload);
      expect(decoded.value, wire).to.equal(
        decodeComPortReply(Uint8Array.of(request[3]! + 100, ...request.slice(4, -2))).value,
      );
    }
    // DTR/RTS: values 8/9 and 11/12 (no reply from ser2net on a pty, which has no modem lines).
    expect([...encodeComPortRequest(ComPort.setControl, Control.dtrOn)]).to.deep.equal([
      ...hex("ff fa 2c 05 08 ff f0"),
    ]);
    expect([...encodeComPortRequest(ComPort.setControl, Control.rtsOff)]).to.deep.equal([
      ...hex("ff fa 2c 05 0c ff f0"),
    ]);
  });

  it("decodes ser2net's opening negotiation and its modem-state notice (recorded)", () => {
    const opening = hex(
      "ff fb 03 ff fd 03 ff fb 01 ff fe 01 ff fd 00 ff fb 00 ff fd 2c ff fa 2c 6b 00 ff f0",
    );
    const events = new TelnetDecoder().push(opening);
    expect(events.slice(-2)).to.deep.equal([
      { kind: "negotiation", verb: DO, option: OPT_COM_PORT },
      { kind: "subnegotiation", option: OPT_COM_PORT, payload: Uint8Array.of(0x6b, 0) },
    ]);
    expect(decodeComPortReply(Uint8Array.of(0x6b, 0))).to.include({
      command: ComPort.notifyModemState,
      value: 0,
    });
    const signature = new TelnetDecoder().push(hex("ff fa 2c 64 73 65 72 32 6e 65 74 ff f0"))[0] as {
      payload: Uint8Array;
    };
    expect(Buffer.from(decodeComPortReply(signature.payload).data).toString()).to.equal("ser2net");
  });

  it("refuses a reply that is not a server code, or a short baud rate, naming the byte", () => {
    expect(() => decodeComPortReply(Uint8Array.of(0x03, 3))).to.throw(/code 0x3 is not a server code/);
    expect(() => decodeComPortReply(Uint8Array.of(0x65, 0, 1))).to.throw(
      /SET-BAUDRATE reply carries 2 value bytes/,
    );
    expect(() => decodeComPortReply(new Uint8Array(0))).to.throw(/empty/);
  });
});
