import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { expect } from "chai";
import fc from "fast-check";
import * as emulatedDevice from "../../harness/devices/emulated-device.js";
import { createEmulator, emulatedFamilies } from "../../harness/devices/registry.js";
import { decodeSetup, encodeSetup } from "../../harness/protocol/usbip/index.js";
import type { Board } from "../../harness/rig/board.js";
import * as board from "../../harness/rig/board.js";
import * as load from "../../harness/rig/load.js";
import {
  type BoardView,
  bytesEqual,
  CAPABILITIES,
  concatBytes,
  type EmulatorView,
  FAMILIES,
  type FlashView,
  firstDifference,
  firstNotEqualTo,
  formatFault,
  formatWhat,
  MAX_EVENTS,
  projectRoot,
  RIG_FILE_CAPABILITIES,
  type SetupPacket,
  type TranscriptEntry,
} from "../../harness/seams/index.js";
import * as faults from "../../harness/sim/faults.js";
import { parseFault } from "../../harness/sim/faults.js";
import { Flash } from "../../harness/sim/flash.js";
import { VirtualClock } from "../../harness/sim/virtual-clock.js";
import type { TranscriptEntry as TransportEntry } from "../../harness/transport/transcript.js";

describe("seams", () => {
  describe("concatBytes", () => {
    it("puts the parts one after the other, nothing added or lost (property)", () => {
      fc.assert(
        fc.property(fc.array(fc.uint8Array({ maxLength: 40 }), { maxLength: 8 }), (parts) => {
          const out = concatBytes(parts);
          expect(out.length).to.equal(parts.reduce((n, p) => n + p.length, 0));
          let at = 0;
          for (const p of parts) {
            expect(bytesEqual(out.subarray(at, at + p.length), p)).to.equal(true);
            at += p.length;
          }
        }),
      );
    });

    it("returns a copy, not a view of a part", () => {
      const part = Uint8Array.of(1, 2, 3);
      const out = concatBytes([part]);
      part[0] = 9;
      expect([...out]).to.deep.equal([1, 2, 3]);
    });

    it("firstDifference and firstNotEqualTo find the first differing byte at any alignment (property)", () => {
      const naiveFirst = (a: Uint8Array, b: Uint8Array) => {
        for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return i;
        return -1;
      };
      fc.assert(
        fc.property(
          fc.uint8Array({ minLength: 0, maxLength: 300 }),
          fc.nat(7),
          fc.nat(7),
          fc.array(fc.tuple(fc.nat(299), fc.integer({ min: 1, max: 255 })), { maxLength: 3 }),
          fc.integer({ min: -3, max: 3 }),
          (bytes, offA, offB, flips, lengthDelta) => {
            // Views at offsets 0..7 of larger buffers: aligned and unaligned word paths.
            const a = new Uint8Array(bytes.length + 8).subarray(offA, offA + bytes.length);
            a.set(bytes);
            const bLength = Math.max(0, bytes.length + lengthDelta);
            const b = new Uint8Array(bLength + 8).subarray(offB, offB + bLength);
            b.set(bytes.subarray(0, bLength));
            for (const [at, x] of flips) if (at < b.length) b[at]! ^= x;
            expect(firstDifference(a, b)).to.equal(naiveFirst(a, b));
            expect(bytesEqual(a, b)).to.equal(a.length === b.length && naiveFirst(a, b) < 0);
            const fill = bytes[0] ?? 0xff;
            const filled = a.slice().fill(fill);
            for (const [at, x] of flips) if (at < filled.length) filled[at]! ^= x;
            expect(firstNotEqualTo(filled, fill)).to.equal(filled.findIndex((v) => v !== fill));
          },
        ),
      );
    });

    it("bytesEqual tells length and content differences apart", () => {
      expect(bytesEqual(Uint8Array.of(1, 2), Uint8Array.of(1, 2))).to.equal(true);
      expect(bytesEqual(Uint8Array.of(1, 2), Uint8Array.of(1, 3))).to.equal(false);
      expect(bytesEqual(Uint8Array.of(1, 2), Uint8Array.of(1, 2, 0))).to.equal(false);
    });
  });

  describe("formatWhat", () => {
    it("is the WHAT half of the fault text form the fault plan parses", () => {
      for (const text of ["power-cut", "power-cut-torn", "usb-stall", "dfu-status-errPROG", "bit-flip"]) {
        const fault = parseFault(`flash-op:3=${text}`);
        expect(formatWhat(fault.what)).to.equal(text);
        expect(formatFault(fault)).to.equal(`flash-op:3=${text}`);
      }
    });
  });

  describe("family and capabilities", () => {
    it("has a capability for white-box access that a rig file cannot claim", () => {
      expect(CAPABILITIES).to.include("inspect");
      expect(RIG_FILE_CAPABILITIES).not.to.include("inspect");
      expect(CAPABILITIES).to.include.members([...RIG_FILE_CAPABILITIES]);
    });

    it("refuses inspect on a lab board in a rig file, naming the field", () => {
      const text = [
        "name: r",
        "boards:",
        "  - id: b",
        "    family: stm32l432",
        "    serial: { port: /dev/ttyUSB0 }",
        "    power: { backend: manual }",
        "    capabilities: [inspect]",
        "",
      ];
      expect(() => load.parseRigFile(text.join("\n"), "r.yaml")).to.throw(
        /r\.yaml:7 boards\[0\]\.capabilities\[0\]: inspect needs an emulated board/,
      );
    });

    it("knows every family the emulator registry builds", () => {
      expect([...FAMILIES]).to.include.members(emulatedFamilies());
    });
  });

  describe("projectRoot", () => {
    it("is the directory of this project's package.json", () => {
      const root = projectRoot();
      expect(existsSync(join(root, "harness", "seams", "paths.ts"))).to.equal(true);
      expect(JSON.parse(readFileSync(join(root, "package.json"), "utf8")).name).to.equal("update-hil");
    });
  });

  describe("the old import paths still work", () => {
    it("re-export the same values", () => {
      expect(board.FAMILIES).to.equal(FAMILIES);
      expect(board.CAPABILITIES).to.equal(CAPABILITIES);
      expect(load.projectRoot).to.equal(projectRoot);
      expect(faults.formatWhat).to.equal(formatWhat);
      expect(faults.formatFault).to.equal(formatFault);
      expect(emulatedDevice.MAX_EVENTS).to.equal(MAX_EVENTS);
    });

    it("the USB/IP codec and the transcript share one SetupPacket", () => {
      const setup: SetupPacket = { bmRequestType: 0xa1, bRequest: 3, wValue: 0, wIndex: 0, wLength: 6 };
      const entry: TranscriptEntry = { t: 0, dir: "ctrl-in", setup: decodeSetup(encodeSetup(setup)) };
      const same: TransportEntry = entry;
      expect(same.setup).to.deep.equal(setup);
    });
  });

  describe("the lower layers satisfy the views reports read", () => {
    it("an emulated device is an EmulatorView, its flashes FlashViews", () => {
      for (const family of emulatedFamilies()) {
        const device = createEmulator(family, { clock: new VirtualClock(), seed: 1 });
        const view: EmulatorView = device;
        expect(view.eventCount).to.be.a("number");
        expect(view.clock.now()).to.equal(0);
        const flashes: readonly FlashView[] = device.flashes; // the TKey has none: its app lives in RAM
        for (const f of flashes) expect(f.peek(f.base, 1).length, `${family} ${f.name}`).to.equal(1);
      }
      const flash: FlashView = new Flash({ base: 0, sectors: [{ size: 64, count: 2 }], programUnit: 8 });
      expect(flash.isErased(0, 128)).to.equal(true);
      expect(flash.snapshot().sectors.map((s) => s.length)).to.deep.equal([64, 64]);
    });

    it("a rig's Board is a BoardView", () => {
      const asView = (b: Board): BoardView => b; // compile-time check: Board must stay assignable
      expect(asView).to.be.a("function");
    });
  });
});
