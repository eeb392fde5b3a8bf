/**
 * OS management bootloader information (Zephyr smp_group_0.rst, group 0 command 8): the mode
 * numbers as the document's table lists them, reading the replies, and the OS group's errors.
 */
import { expect } from "chai";
import fc from "fast-check";
import {
  bootloaderInfoRequest,
  decodeBody,
  encodeIndefinite,
  McubootMode,
  MgmtErr,
  mcubootModeName,
  mcubootModeOf,
  OsCommand,
  OsMgmtErr,
  osErrToV1,
  parseBootloaderName,
  parseMcubootMode,
  rcName,
  SmpCborError,
  SmpGroup,
} from "../../../harness/protocol/smp/index.js";

describe("protocol/smp: bootloader information (smp_group_0.rst)", () => {
  it("is command 8 of the OS group; OS/application info is 7", () => {
    expect(SmpGroup.OS).to.equal(0);
    expect(OsCommand.BOOTLOADER_INFO).to.equal(8);
    expect(OsCommand.INFO).to.equal(7);
  });

  it("mode numbers as the document's table gives them; 7-9 continue MCUboot's boot_status.h enum", () => {
    const table: [number, string][] = [
      [-1, "unknown"],
      [0, "single-app"],
      [1, "swap-using-scratch"],
      [2, "overwrite-only"],
      [3, "swap-using-move"], // "swap without scratch"
      [4, "direct-xip"],
      [5, "direct-xip-with-revert"],
      [6, "ram-load"],
      [7, "firmware-loader"],
      [8, "single-slot-ram-load"],
      [9, "swap-using-offset"],
    ];
    for (const [n, name] of table) {
      expect(mcubootModeName(n), String(n)).to.equal(name);
      expect(mcubootModeOf(name), name).to.equal(n);
    }
    expect(McubootMode.SWAP_USING_MOVE).to.equal(3);
    expect(McubootMode.OVERWRITE_ONLY).to.equal(2);
    expect(mcubootModeName(12)).to.equal("mode 12");
    expect(mcubootModeOf("swap-sideways")).to.equal(undefined);
  });

  it("the request: no query is an empty map; a query is {query: text}", () => {
    expect(bootloaderInfoRequest()).to.deep.equal({});
    expect(bootloaderInfoRequest("mode")).to.deep.equal({ query: "mode" });
  });

  it("reads the name and the mode answer; no-downgrade is false when left out", () => {
    expect(parseBootloaderName({ bootloader: "MCUboot" })).to.equal("MCUboot");
    expect(parseMcubootMode({ mode: 3 })).to.deep.equal({ mode: 3, noDowngrade: false });
    expect(parseMcubootMode({ mode: 2, "no-downgrade": true })).to.deep.equal({ mode: 2, noDowngrade: true });
    expect(parseMcubootMode({ mode: -1 })).to.deep.equal({ mode: -1, noDowngrade: false });
  });

  it("a reply without the documented form fails naming the field", () => {
    expect(() => parseBootloaderName({})).to.throw(
      SmpCborError,
      /"bootloader" should be a text string, got nothing/,
    );
    expect(() => parseBootloaderName({ bootloader: 7 })).to.throw(SmpCborError, /"bootloader".*number 7/);
    expect(() => parseMcubootMode({ mode: "move" })).to.throw(SmpCborError, /"mode" should be an integer/);
    expect(() => parseMcubootMode({ mode: 1.5 })).to.throw(SmpCborError, /"mode"/);
    expect(() => parseMcubootMode({ mode: 1, "no-downgrade": 1 })).to.throw(SmpCborError, /"no-downgrade"/);
  });

  it("any mode answer survives CBOR both ways (zcbor's indefinite maps); any other body is refused, never misread (property)", () => {
    fc.assert(
      fc.property(fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), fc.boolean(), (mode, noDowngrade) => {
        const body = decodeBody(encodeIndefinite({ mode, ...(noDowngrade ? { "no-downgrade": true } : {}) }));
        expect(parseMcubootMode(body)).to.deep.equal({ mode, noDowngrade });
      }),
    );
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.jsonValue()), (body) => {
        try {
          const got = parseMcubootMode(body);
          expect(got.mode).to.equal(body.mode);
          expect(Number.isInteger(got.mode)).to.equal(true);
        } catch (e) {
          expect(e).to.be.instanceOf(SmpCborError);
          expect((e as Error).message).to.match(/"(mode|no-downgrade)"/);
        }
      }),
    );
  });

  it("OS group errors: named from os_mgmt's table; a v1 request gets Zephyr's translation", () => {
    expect(rcName(OsMgmtErr.QUERY_YIELDS_NO_ANSWER, SmpGroup.OS)).to.equal(
      "OS_MGMT_ERR_QUERY_YIELDS_NO_ANSWER (3)",
    );
    expect(rcName(3, undefined)).to.equal("MGMT_ERR_EINVAL (3)");
    expect(osErrToV1(OsMgmtErr.QUERY_YIELDS_NO_ANSWER)).to.equal(MgmtErr.ENOENT);
    expect(osErrToV1(OsMgmtErr.RTC_NOT_SET)).to.equal(MgmtErr.ENOENT);
    expect(osErrToV1(OsMgmtErr.INVALID_FORMAT)).to.equal(MgmtErr.EINVAL);
    expect(osErrToV1(OsMgmtErr.RTC_COMMAND_FAILED)).to.equal(MgmtErr.EUNKNOWN);
    expect(osErrToV1(OsMgmtErr.OK)).to.equal(MgmtErr.EOK);
  });
});
