import { expect } from "chai";
import fc from "fast-check";
import {
  blockAddress,
  DFU_STATE_NAMES,
  DFU_STATUS_MEANINGS,
  DfuPayloadError,
  DfuRequest,
  DfuState,
  DfuStatus,
  decodeDfuseCommand,
  decodeFunctionalDescriptor,
  decodeState,
  decodeStatus,
  encodeDfuseCommand,
  encodeFunctionalDescriptor,
  encodeStatus,
  isDfuSe,
  isInRequest,
  statusMeaning,
  statusName,
} from "../../../harness/protocol/dfu/index.js";

describe("protocol/dfu: requests, states, status codes", () => {
  it("numbers the seven class requests as DFU 1.1 §3 / AN3156 Table 3", () => {
    expect(DfuRequest).to.deep.equal({
      DETACH: 0,
      DNLOAD: 1,
      UPLOAD: 2,
      GETSTATUS: 3,
      CLRSTATUS: 4,
      GETSTATE: 5,
      ABORT: 6,
    });
    expect([0, 1, 2, 3, 4, 5, 6].filter((r) => isInRequest(r as DfuRequest))).to.deep.equal([2, 3, 5]);
  });

  it("has the 11 states with dfu-util's names", () => {
    expect(DFU_STATE_NAMES).to.have.length(11);
    expect(DFU_STATE_NAMES[DfuState.dfuDNBUSY]).to.equal("dfuDNBUSY");
    expect(DFU_STATE_NAMES[DfuState.dfuMANIFEST_WAIT_RESET]).to.equal("dfuMANIFEST-WAIT-RESET");
    expect(DFU_STATE_NAMES[DfuState.dfuERROR]).to.equal("dfuERROR");
  });

  it("has the 16 status codes 0x00..0x0F with names and meanings; beyond is INVALID", () => {
    expect(Object.values(DfuStatus)).to.deep.equal([...Array(16).keys()]);
    expect(Object.keys(DFU_STATUS_MEANINGS)).to.have.length(16);
    expect(statusName(0x01)).to.equal("errTARGET");
    expect(statusName(0x0b)).to.equal("errVENDOR");
    expect(statusName(0x0f)).to.equal("errSTALLEDPKT");
    expect(statusName(0x10)).to.equal("INVALID");
    expect(statusMeaning(0x0a)).to.equal(
      "Device's firmware is corrupt; cannot return to run-time operations",
    );
  });
});

describe("protocol/dfu: GETSTATUS / GETSTATE payloads", () => {
  it("encodes bwPollTimeout as 24-bit little-endian between bStatus and bState", () => {
    const bytes = encodeStatus({
      status: DfuStatus.OK,
      pollTimeoutMs: 0x030201,
      state: DfuState.dfuDNBUSY,
      iString: 0,
    });
    expect([...bytes]).to.deep.equal([0x00, 0x01, 0x02, 0x03, 0x04, 0x00]);
  });

  it("round-trips every valid reply", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 15 }),
        fc.integer({ min: 0, max: 0xffffff }),
        fc.integer({ min: 0, max: 10 }),
        fc.integer({ min: 0, max: 255 }),
        (status, pollTimeoutMs, state, iString) => {
          const reply = { status: status as DfuStatus, pollTimeoutMs, state: state as DfuState, iString };
          expect(decodeStatus(encodeStatus(reply))).to.deep.equal(reply);
        },
      ),
    );
  });

  it("refuses a reply that is not exactly 6 bytes (as dfu-util does)", () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 12 }).filter((b) => b.length !== 6),
        (bytes) => {
          expect(() => decodeStatus(bytes)).to.throw(DfuPayloadError, `got ${bytes.length}`);
        },
      ),
    );
  });

  it("refuses a poll timeout that does not fit 24 bits", () => {
    expect(() => encodeStatus({ status: 0, pollTimeoutMs: 0x1000000, state: 2, iString: 0 })).to.throw(
      RangeError,
    );
  });

  it("GETSTATE is one byte", () => {
    expect(decodeState(Uint8Array.of(10))).to.equal(DfuState.dfuERROR);
    expect(() => decodeState(new Uint8Array(2))).to.throw(DfuPayloadError);
  });
});

describe("protocol/dfu: functional descriptor", () => {
  it("decodes the STM32 ROM descriptor bytes (0x0B, 255 ms, 2048, 0x011A)", () => {
    const rom = Uint8Array.of(0x09, 0x21, 0x0b, 0xff, 0x00, 0x00, 0x08, 0x1a, 0x01);
    const d = decodeFunctionalDescriptor(rom);
    expect(d).to.deep.equal({
      bmAttributes: 0x0b,
      detachTimeoutMs: 255,
      transferSize: 2048,
      bcdDfuVersion: 0x011a,
    });
    expect(isDfuSe(d)).to.equal(true);
    expect(encodeFunctionalDescriptor(d)).to.deep.equal(rom);
  });

  it("reads a 7-byte DFU 1.0 descriptor as version 1.0", () => {
    const d = decodeFunctionalDescriptor(Uint8Array.of(7, 0x21, 0x03, 0x10, 0x00, 0x00, 0x04));
    expect(d.bcdDfuVersion).to.equal(0x0100);
    expect(d.transferSize).to.equal(1024);
  });

  it("names the byte of a wrong descriptor type", () => {
    expect(() => decodeFunctionalDescriptor(Uint8Array.of(9, 0x04, 0, 0, 0, 0, 0, 0, 0))).to.throw(
      DfuPayloadError,
      "byte 1",
    );
  });

  it("round-trips any descriptor", () => {
    fc.assert(
      fc.property(fc.nat(255), fc.nat(0xffff), fc.nat(0xffff), fc.nat(0xffff), (a, t, s, v) => {
        const d = { bmAttributes: a, detachTimeoutMs: t, transferSize: s, bcdDfuVersion: v };
        expect(decodeFunctionalDescriptor(encodeFunctionalDescriptor(d))).to.deep.equal(d);
      }),
    );
  });
});

describe("protocol/dfu: DfuSe commands (AN3156 §5)", () => {
  it("encodes commands with LSB-first addresses", () => {
    expect([...encodeDfuseCommand({ kind: "set-address", address: 0x08000000 })]).to.deep.equal([
      0x21, 0x00, 0x00, 0x00, 0x08,
    ]);
    expect([...encodeDfuseCommand({ kind: "erase-page", address: 0x08012345 })]).to.deep.equal([
      0x41, 0x45, 0x23, 0x01, 0x08,
    ]);
    expect([...encodeDfuseCommand({ kind: "mass-erase" })]).to.deep.equal([0x41]);
    expect([...encodeDfuseCommand({ kind: "read-unprotect" })]).to.deep.equal([0x92]);
    expect([...encodeDfuseCommand({ kind: "get-commands" })]).to.deep.equal([0x00]);
  });

  it("round-trips every command", () => {
    const cmd = fc.oneof(
      fc.constant({ kind: "get-commands" as const }),
      fc.constant({ kind: "mass-erase" as const }),
      fc.constant({ kind: "read-unprotect" as const }),
      fc.record({ kind: fc.constant("set-address" as const), address: fc.nat(0xffffffff) }),
      fc.record({ kind: fc.constant("erase-page" as const), address: fc.nat(0xffffffff) }),
    );
    fc.assert(
      fc.property(cmd, (c) => {
        expect(decodeDfuseCommand(encodeDfuseCommand(c))).to.deep.equal(c);
      }),
    );
  });

  it("any byte string either decodes to a command that re-encodes to it, or is refused naming byte 0", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 8 }), (bytes) => {
        let decoded: ReturnType<typeof decodeDfuseCommand>;
        try {
          decoded = decodeDfuseCommand(bytes);
        } catch (e) {
          expect(e).to.be.instanceOf(DfuPayloadError);
          return;
        }
        expect(encodeDfuseCommand(decoded)).to.deep.equal(bytes);
      }),
    );
    expect(() => decodeDfuseCommand(Uint8Array.of(0x33))).to.throw(DfuPayloadError, "byte 0: 0x33");
  });

  it("computes (wBlockNum − 2) × wTransferSize + pointer", () => {
    expect(blockAddress(2, 2048, 0x08000000)).to.equal(0x08000000);
    expect(blockAddress(5, 2048, 0x08000000)).to.equal(0x08001800);
    expect(blockAddress(3, 1024, 0x20000000)).to.equal(0x20000400);
    expect(() => blockAddress(1, 2048, 0)).to.throw(RangeError);
  });
});
