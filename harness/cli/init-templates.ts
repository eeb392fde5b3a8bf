/**
 * What `hil init` writes: one sample suite per family, the team's clause file, the plain-mocha
 * settings and the npm scripts. Each sample uses only the package's public entries and runs
 * green on the default emulated rack; on a lab rack it runs unchanged.
 */

/** A family `hil init --family` offers: its sample suite, its clauses, its lab example, its pack. */
export interface FamilyTemplate {
  /** The rig family (rigs/emulated.yaml has a board of it). */
  readonly family: string;
  readonly file: string;
  readonly suite: string;
  readonly clauses: readonly string[];
  /** rigs/examples/<this>: the commented lab rack for it. */
  readonly labExample: string;
  /** The built-in suites that qualify the same family (`hil run --pack`). */
  readonly pack: string;
}

const DFU_CLAUSES = [
  "UPD-1: the update writes the image byte for byte",
  "UPD-2: an update cut by a power loss is recovered by a second update",
];

function dfuSuite(family: string): string {
  return `import { expect } from "chai";
import { type Board, bytesEqual, covers, forEachBoard, getRig, usbBusOf, usbFilterOf } from "update-hil";
import { DfuClient, DfuError } from "update-hil/clients";
import { loadImage } from "update-hil/protocol/dfu";

/**
 * Our application's update through the ${family} ROM DfuSe bootloader, and its recovery after a
 * power cut. Replace appImage() with your build (readFileSync("build/app.bin")).
 */
const rig = getRig();
const ROM_DFU = { vendorId: 0x0483, productId: 0xdf11 };
const FLASH = 0x0800_0000;

/** A stand-in application: a vector table (stack pointer, reset handler), then code bytes. */
function appImage(version: number): Uint8Array {
  const image = new Uint8Array(8 * 1024);
  const view = new DataView(image.buffer);
  view.setUint32(0, 0x2000_8000, true);
  view.setUint32(4, FLASH + 0x1c1, true);
  for (let i = 8; i < image.length; i++) image[i] = (i * 7 + version) & 0xff;
  return image;
}

function openRom(board: Board): Promise<DfuClient> {
  return DfuClient.open(usbBusOf(board), usbFilterOf(board, ROM_DFU), { clock: board.clock });
}

describe("our application: DfuSe update (${family})", () => {
  forEachBoard(rig, { family: "${family}", capabilities: ["usb-dfu", "power-cut"] }, (board) => {
    covers(${JSON.stringify(DFU_CLAUSES[0])});
    it("writes the new image and reads it back", async () => {
      await board.strategy.factoryReset({ image: appImage(1) });
      const client = await openRom(board);
      await client.download(loadImage("app.bin", appImage(2), { address: FLASH }));
      expect(bytesEqual(await client.upload(FLASH, 8 * 1024), appImage(2))).to.equal(true);
      await client.close();
    });

    covers(${JSON.stringify(DFU_CLAUSES[1])});
    it("recovers from a power cut during the download", async () => {
      await board.strategy.factoryReset({ image: appImage(1) });
      const image = loadImage("app.bin", appImage(2), { address: FLASH });
      const cut = await openRom(board);
      cut.events.on("block", (e) => {
        if (e.index === 2) void board.power.off();
      });
      const error = await cut.download(image).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error, "the cut download fails").to.be.instanceOf(DfuError);
      await board.strategy.transition("rom-dfu");
      const client = await openRom(board);
      await client.download(image);
      expect(bytesEqual(await client.upload(FLASH, 8 * 1024), appImage(2))).to.equal(true);
      await client.close();
    });
  });
});
`;
}

const NRF_CLAUSES = ["UPD-3: an uploaded image is tested, runs after a reset, and stays once confirmed"];

/** The development key hil init writes for the nrf52840 sample (the emulated rack trusts it). */
export const DEV_KEY = "keys/dev-ecdsa-p256.pem";

const NRF_SUITE = `import { readFileSync } from "node:fs";
import { expect } from "chai";
import { covers, forEachBoard, getRig, SmpLink } from "update-hil";
import { isPrivate, parseImage, parsePemKey, parseVersion, signImage } from "update-hil/protocol/mcuboot";

/**
 * Our MCUboot application's update over SMP (mcumgr): upload, test, reset, confirm. The images
 * are signed with ${DEV_KEY}, which rigs/emulated.yaml's nrf52840 trusts; replace the payload
 * with your build (a lab board's MCUboot must be built with your key).
 */
const rig = getRig();
const KEY_FILE = new URL("../${DEV_KEY}", import.meta.url);

function signed(version: string, size: number): Uint8Array {
  const key = parsePemKey(readFileSync(KEY_FILE, "utf8"), "${DEV_KEY}");
  if (!isPrivate(key)) throw new Error("${DEV_KEY} is not a private key");
  const payload = Uint8Array.from({ length: size }, (_, i) => (i * 13 + version.length) & 0xff);
  return signImage(payload, {
    key,
    version: parseVersion(version),
    headerSize: 0x200,
    slotSize: 0x76000,
    padHeader: true,
  });
}

describe("our application: MCUboot update over SMP (nrf52840)", () => {
  forEachBoard(rig, { family: "nrf52840" }, (board) => {
    covers(${JSON.stringify(NRF_CLAUSES[0])});
    it("uploads, tests, runs and confirms the new image", async () => {
      const v1 = signed("1.0.0", 9000);
      const v2 = signed("1.1.0", 12000);
      await board.strategy.factoryReset({ image: v1 });
      const link = await SmpLink.connect(board);
      try {
        await link.client.upload(v2);
        await link.client.test(parseImage(v2).hash!);
        await link.reset();
        const running = (await link.client.list()).find((slot) => slot.active);
        expect(running?.version).to.equal("1.1.0");
        await link.client.confirm();
        await link.reset();
        expect((await link.client.list()).find((slot) => slot.active)?.version).to.equal("1.1.0");
      } finally {
        await link.close();
      }
    });
  });
});
`;

const TKEY_CLAUSES = ["UPD-4: after power-on the device answers with its name and version"];

const TKEY_SUITE = `import { expect } from "chai";
import { covers, forEachBoard, getRig, openTKeyLink } from "update-hil";
import { TKeyClient } from "update-hil/clients";

/** Our TKey: after power-on its firmware answers the probe with its name and version. */
const rig = getRig();

describe("our device: TKey firmware after power-on", () => {
  forEachBoard(rig, { family: "tkey" }, (board) => {
    covers(${JSON.stringify(TKEY_CLAUSES[0])});
    it("answers the probe with the firmware's name", async () => {
      await board.strategy.factoryReset({});
      const client = await TKeyClient.open(await openTKeyLink(board), { clock: board.clock });
      try {
        const probe = await client.probe();
        expect(probe.mode).to.equal("firmware");
      } finally {
        await client.close();
      }
    });
  });
});
`;

export const FAMILY_TEMPLATES: Readonly<Record<string, FamilyTemplate>> = {
  stm32l432: {
    family: "stm32l432",
    file: "suites/stm32l432-update.spec.ts",
    suite: dfuSuite("stm32l432"),
    clauses: DFU_CLAUSES,
    labExample: "nucleo-l432kc-canokey.yaml",
    pack: "stm32-dfu",
  },
  stm32wb55: {
    family: "stm32wb55",
    file: "suites/stm32wb55-update.spec.ts",
    suite: dfuSuite("stm32wb55"),
    clauses: DFU_CLAUSES,
    labExample: "p-nucleo-wb55.yaml",
    pack: "stm32-fus",
  },
  nrf52840: {
    family: "nrf52840",
    file: "suites/nrf52840-image.spec.ts",
    suite: NRF_SUITE,
    clauses: NRF_CLAUSES,
    labExample: "nrf52840-dk.yaml",
    pack: "mcuboot",
  },
  tkey: {
    family: "tkey",
    file: "suites/tkey-probe.spec.ts",
    suite: TKEY_SUITE,
    clauses: TKEY_CLAUSES,
    labExample: "tkey-rack.yaml",
    pack: "tkey",
  },
};

/** hil-clauses.yaml: the team's own document, with the clauses of the samples it got. */
export function clausesFile(clauses: readonly string[]): string {
  return `# Your own clauses, beside update-hil's catalogue (DFU 1.1, AN3155/AN3156, AN5185, MCUboot,
# SMP, TKey): the rows of the qualification matrix that \`hil report\` writes. A suite names
# them with covers("...") right before its it(...), with the exact text below; a clause here
# that no test declares shows as a gap. Same form as update-hil's own catalogue: sources
# (cited by name and revision, with a url when public) and documents of clauses. A document
# may also cite update-hil's sources by id (dfu-1.1, an3156, an3155, an5185, mcuboot, ...).
sources:
  - id: our-update
    name: "UPD"
    title: "Our firmware update procedure"
    revision: "draft"

documents:
  - document: "Our firmware update procedure"
    set: ours
    cites: [our-update]
    severity: critical
    clauses:
${[...new Set(clauses)].map((c) => `      - ${JSON.stringify(c)}`).join("\n")}
`;
}

/** .mocharc.json: the same suites with plain \`npx mocha\` (HIL_RIG picks the rig). */
export const MOCHARC = `${JSON.stringify(
  {
    $comment:
      "Plain mocha (npx mocha) runs the same suites as hil run: tsx loads the TypeScript, allure-mocha writes reports/allure-results for hil report. HIL_RIG=rigs/lab.yaml picks another rig.",
    "node-option": ["import=tsx", "no-experimental-require-module"],
    spec: ["suites/**/*.spec.ts"],
    "forbid-only": true,
    exit: true,
    timeout: 120000,
    reporter: "allure-mocha",
    "reporter-option": ["resultsDir=reports/allure-results", "extraReporters=spec"],
  },
  null,
  2,
)}
`;

export const GITIGNORE = "node_modules/\nreports/\n";
