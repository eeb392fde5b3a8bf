import { expect, use } from "chai";
import type { TKeyClient } from "../../harness/clients/tkey/index.js";
import { covers, flashChai, forEachBoard, getRig } from "../../harness/index.js";
import {
  appDigest,
  computeCdi,
  PRODUCT_NAMES,
  udsBytes,
  ussFromSecret,
} from "../../harness/protocol/tkey/index.js";
import { appMaxSize, appOf, CLAUSES, closeClient, emulatedTKey, emulatorOrSkip, replug } from "./fixture.js";

use(flashChai);

const rig = getRig();

describe("tkey: full app load", () => {
  forEachBoard(rig, { family: "tkey" }, (board) => {
    covers(CLAUSES.nameVersion, CLAUSES.probe);
    it("after power-on the firmware answers the probe with its name and version", async () => {
      let client: TKeyClient | undefined;
      try {
        client = await replug(board);
        const probe = await client.probe();
        expect(probe.mode).to.equal("firmware");
        if (probe.mode !== "firmware") return;
        expect(probe.nameVersion).to.include({ name0: "tk1 ", name1: "mkdf" });
        expect([1, 4, 5, 6]).to.include(probe.nameVersion.version);
        const dev = emulatedTKey(board);
        if (dev) expect(probe.nameVersion.version).to.equal(dev.profile.version);
      } finally {
        await closeClient(client);
      }
    });

    covers(CLAUSES.getUdi);
    it("GET_UDI reports a known product and the board's serial", async () => {
      let client: TKeyClient | undefined;
      try {
        client = await replug(board);
        const udi = await client.getUdi();
        expect(PRODUCT_NAMES[udi.productId], `product ID ${udi.productId}`).to.be.a("string");
        expect(udi.reserved).to.equal(0);
        const dev = emulatedTKey(board);
        if (dev) expect(udi.serial).to.equal(dev.identity.udiWords[1]);
      } finally {
        await closeClient(client);
      }
    });

    for (const [label, size] of [
      ["1 byte", () => 1],
      ["127 bytes (one full chunk)", () => 127],
      ["128 bytes (a chunk and one byte)", () => 128],
      ["100 KiB", () => 100 * 1024],
      ["the maximum size", () => appMaxSize(board)],
    ] as const) {
      covers(CLAUSES.loadApp, CLAUSES.digest, CLAUSES.probe);
      it(`loads an app of ${label}: the digest is BLAKE2s of the file and the app runs`, async () => {
        let client: TKeyClient | undefined;
        try {
          client = await replug(board);
          const app = appOf(board, size());
          const result = await client.loadApp(app);
          expect(result.digest).to.equalBytes(appDigest(app));
          expect(result.chunks).to.equal(Math.ceil(app.length / 127));
          // The firmware has handed over: a probe now reaches the app, which answers NOK.
          expect(await client.probe()).to.deep.equal({ mode: "app" });
          const dev = emulatedTKey(board);
          if (dev) expect(dev.app?.image).to.equalBytes(app);
        } finally {
          await closeClient(client);
        }
      });
    }

    for (const withUss of [false, true]) {
      covers(CLAUSES.cdi);
      it(`the CDI the app sees is the documented one ${withUss ? "with" : "without"} a USS`, async function () {
        const dev = await emulatorOrSkip(
          this,
          board,
          "the UDS never leaves a real TKey, so only an emulator shows the CDI",
        );
        let client: TKeyClient | undefined;
        try {
          client = await replug(board);
          const app = appOf(board, 3000);
          const result = await client.loadApp(
            app,
            withUss ? { uss: ussFromSecret("tkey suite secret") } : {},
          );
          const expected = computeCdi(dev.profile.cdi, {
            uds: udsBytes(dev.identity.udsWords),
            digest: appDigest(app),
            uss: result.uss?.field,
          });
          expect(dev.cdi).to.equalBytes(expected);
          expect(result.uss !== undefined).to.equal(withUss);
        } finally {
          await closeClient(client);
        }
      });
    }
  });
});
