/**
 * The emulated FUS against ST's own coprocessor binaries, which this repository may not
 * hold (ST's licence): set HIL_ST_BINARIES to a folder of them, e.g. STM32CubeWB's
 * Projects/STM32WB_Copro_Wireless_Binaries/STM32WB5x (searched recursively; a
 * Release_Notes.html beside the files supplies their install addresses for 1 MB parts).
 *
 *   HIL_ST_BINARIES=/path/to/STM32WB5x npx mocha test/devices/stm32-fus/st-binaries.spec.ts
 *
 * Each file must parse, be found by FUS at its address, be refused by default
 * (IMG_NOT_AUTHENTIC: the emulator cannot verify ST's signature) with flash unchanged, and
 * install under st-signature=unverified.
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { expect } from "chai";
import { FusClientError } from "../../../harness/clients/fus/index.js";
import {
  compareVersion,
  encodeVersion,
  FUS_AREA_1MB,
  FusError,
  type FusImageLayout,
  pageOf,
  parseImageFile,
  releaseNotesAddress,
  versionUnstated,
} from "../../../harness/protocol/fus/index.js";
import { fusBench } from "./helpers.js";

const DIR = process.env.HIL_ST_BINARIES;
/** The emulated part's factory FUS (cpu2.ts factoryNv). */
const FACTORY_FUS = 0x0102_0000;

function binFiles(dir: string): string[] {
  return readdirSync(dir)
    .sort()
    .flatMap((name) => {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) return binFiles(path);
      return /\.bin$/i.test(name) ? [path] : [];
    });
}

/**
 * Install addresses (1 MB column) from a release notes page: the first address after each
 * file name, with the split form "0x080 EC 000" joined.
 */
function releaseNotesAddresses(html: string): Map<string, number> {
  const text = html.replace(/<[^>]+>/g, " ").replace(/&nbsp;|&#160;/g, " ");
  const tokens = text.split(/\s+/).filter(Boolean);
  const found = new Map<string, number>();
  for (let i = 0; i < tokens.length; i++) {
    const name = tokens[i]!;
    if (!/^stm32wb\w*\.bin$/i.test(name) || found.has(name)) continue;
    let address = "";
    for (let j = i + 1; j < Math.min(tokens.length, i + 6) && address.length < 10; j++) {
      const t = tokens[j]!;
      if (/^0x[0-9a-f]+$/i.test(t) || (address && /^[0-9a-f]+$/i.test(t))) address += t;
      else break;
    }
    if (/^0x[0-9a-f]{8}$/i.test(address)) found.set(name, Number.parseInt(address, 16));
  }
  return found;
}

const notesCache = new Map<string, Map<string, number>>();
function addressOf(path: string, layout: FusImageLayout, length: number): { address: number; from: string } {
  const dir = dirname(path);
  if (!notesCache.has(dir)) {
    const html = join(dir, "Release_Notes.html");
    notesCache.set(dir, existsSync(html) ? releaseNotesAddresses(readFileSync(html, "latin1")) : new Map());
  }
  const listed = notesCache.get(dir)!.get(basename(path));
  return listed === undefined
    ? { address: releaseNotesAddress(layout.image, length), from: "the release notes' rule" }
    : { address: listed, from: "Release_Notes.html" };
}

describe("devices/stm32 FUS with ST's own files (HIL_ST_BINARIES)", function () {
  this.timeout(120_000);
  if (!DIR) {
    it("skipped: HIL_ST_BINARIES does not name a folder of ST's STM32WB coprocessor binaries", function () {
      this.skip();
    });
    return;
  }
  const files = binFiles(DIR);
  it(`${DIR} holds coprocessor binaries`, () => {
    expect(files, `no .bin file under ${DIR}`).to.not.be.empty;
  });

  for (const path of files) {
    const name = path.slice(DIR.length).replace(/^\/+/, "");
    it(`${name}: parses, is found at its address, refused by default, installed unverified`, async () => {
      const file = new Uint8Array(readFileSync(path));
      const layout = parseImageFile(file);
      const { image } = layout;
      expect(layout.customer, "ST ships no customer signature").to.equal(undefined);
      expect(layout.st.footer.sourceByte).to.equal(0x57);
      const { address, from } = addressOf(path, layout, file.length);
      expect(address % 4096, `${from}: 0x${address.toString(16)} is a sector start`).to.equal(0);
      expect(
        address + file.length,
        `${from}: the file at 0x${address.toString(16)} must end below the FUS area (0x080F4000)`,
      ).to.be.at.most(FUS_AREA_1MB);

      // Default: ST's signature cannot be verified here, nothing changes.
      const strict = await fusBench("usb-dfu", { factoryStack: false });
      const refused = await strict.client.fwUpgrade(file, { address }).catch((e: unknown) => e);
      expect(refused).to.be.instanceOf(FusClientError);
      expect((refused as FusClientError).fusError, (refused as Error).message).to.equal("IMG_NOT_AUTHENTIC");
      expect(strict.dev.chip.flash.peek(address, file.length)).to.deep.equal(file);
      await strict.client.link.close();

      // Rehearsal: the signature accepted unchecked, the file installed from where it lies.
      const { dev, client } = await fusBench("usb-dfu", {
        factoryStack: false,
        options: { "st-signature": "unverified" },
      });
      const olderFus =
        image.kind === "fus" &&
        !versionUnstated(image) &&
        compareVersion(encodeVersion(image.version), FACTORY_FUS) <= 0;
      const outcome = await client.fwUpgrade(file, { address }).catch((e: unknown) => e);
      if (olderFus) {
        // The emulated part runs FUS 1.2.0: an older FUS is a downgrade.
        expect((outcome as FusClientError).fusError).to.equal("FW_ROLLBACK_ERROR");
        return;
      }
      expect(outcome, (outcome as Error).message).to.not.be.instanceOf(Error);
      const info = await client.readDeviceInfo();
      const version = encodeVersion(image.version);
      if (image.kind === "wireless-stack") {
        expect(dev.fus!.nv.stack?.page, "installed where it was found").to.equal(pageOf(address));
        expect(dev.fus!.nv.stack?.sectors).to.equal(image.memory.flashSectors);
        expect(info.wirelessStackVersion).to.equal(version);
        expect(dev.fus!.state).to.deep.equal({ state: 0xff, error: FusError.NOT_RUNNING });
      } else if (image.kind === "fus") {
        expect(info.fusVersion).to.equal(versionUnstated(image) ? FACTORY_FUS : version);
        expect(dev.chip.flash.isErased(address, file.length), "staged copy erased").to.equal(true);
      } else {
        expect(image.kind).to.equal("safeboot");
        expect(info.safeBootVersion).to.equal(version);
      }
      await client.link.close();
    });
  }
});
