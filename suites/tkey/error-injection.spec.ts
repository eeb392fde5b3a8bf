import { expect, use } from "chai";
import { type TKeyClient, TKeyDigestError, TKeySilentError } from "../../harness/clients/tkey/index.js";
import { covers, expectError, flashChai, forEachBoard, getRig } from "../../harness/index.js";
import {
  appDigest,
  encodeFrame,
  encodeLoadAppCmd,
  encodeLoadAppDataCmd,
  encodeNameVersionCmd,
  STATUS_BAD,
} from "../../harness/protocol/tkey/index.js";
import {
  appMaxSize,
  appOf,
  CLAUSES,
  closeClient,
  connect,
  emulatedTKey,
  emulatorOrSkip,
  replug,
} from "./fixture.js";

use(flashChai);

const rig = getRig();

/** Frames the firmware must answer with silence; `before` brings it into the state where the frame is wrong. */
const MALFORMED: Array<{ what: string; bytes: Uint8Array; loading?: boolean }> = [
  { what: "a header with the reserved bit 7 set", bytes: Uint8Array.of(0xd0, 0x01) },
  { what: "a command header with the status bit set", bytes: Uint8Array.of(0x54, 0x01) },
  { what: "a frame for the app endpoint", bytes: Uint8Array.of(0x58, 0x01) },
  { what: "NAME_VERSION in a 4-byte frame", bytes: Uint8Array.of(0x51, 0x01, 0, 0, 0) },
  { what: "an unknown command", bytes: Uint8Array.of(0x50, 0x0a) },
  { what: "LOAD_APP_DATA before LOAD_APP", bytes: encodeLoadAppDataCmd(new Uint8Array(127)) },
  { what: "NAME_VERSION while loading", bytes: encodeNameVersionCmd(), loading: true },
  {
    what: "LOAD_APP in a 32-byte frame",
    bytes: encodeFrame(
      { id: 2, endpoint: 2, nok: false, length: 32 },
      encodeLoadAppCmd({ size: 10 }).subarray(1, 33),
    ),
  },
];

describe("tkey: error injection", () => {
  forEachBoard(rig, { family: "tkey", capabilities: ["power-cut"] }, (board) => {
    for (const [label, size] of [
      ["size 0", () => 0],
      ["a size over the limit", () => appMaxSize(board) + 1],
    ] as const) {
      covers(CLAUSES.loadAppBad, CLAUSES.loadApp);
      it(`LOAD_APP with ${label} answers STATUS_BAD, and a correct retry loads`, async () => {
        let client: TKeyClient | undefined;
        try {
          client = await replug(board);
          expect(await client.sendLoadApp(size())).to.equal(STATUS_BAD);
          const app = appOf(board, 500);
          expect((await client.loadApp(app)).digest).to.equalBytes(appDigest(app));
        } finally {
          await closeClient(client);
        }
      });
    }

    for (const bad of MALFORMED) {
      covers(CLAUSES.halt);
      it(`${bad.what}: silence, the client times out, a power cycle brings the firmware back`, async () => {
        let client: TKeyClient | undefined;
        try {
          client = await replug(board);
          if (bad.loading) await client.sendLoadApp(1000);
          await client.writeRaw(bad.bytes, bad.what);
          const err = await expectError(() => client!.probe(), TKeySilentError);
          expect(err).to.be.instanceOf(TKeySilentError);
          expect((err as TKeySilentError).partial).to.have.length(0);
          const dev = emulatedTKey(board);
          if (dev) expect(dev.state).to.equal(dev.profile.stateNames.halted);

          client = await replug(board);
          expect((await client.probe()).mode).to.equal("firmware");
          const app = appOf(board, 300);
          expect((await client.loadApp(app)).digest).to.equalBytes(appDigest(app));
        } finally {
          await closeClient(client);
        }
      });
    }

    covers(CLAUSES.digest);
    it("a chunk corrupted in transit: the client sees a digest that is not BLAKE2s of the file", async function () {
      const dev = await emulatorOrSkip(
        this,
        board,
        "corrupting a chunk on the wire needs the emulator's line",
      );
      const client = await replug(board);
      try {
        dev.faults.add({
          where: { at: "event", event: "tkey.chunk.received", occurrence: dev.counters.chunks + 5 },
          what: { do: "bit-flip" },
        });
        const app = appOf(board, 2000);
        const err = await expectError(() => client.loadApp(app), TKeyDigestError);
        expect(err).to.be.instanceOf(TKeyDigestError);
        expect((err as TKeyDigestError).expected).to.equalBytes(appDigest(app));
        expect((err as TKeyDigestError).actual).to.equalBytes(dev.app!.digest);
      } finally {
        await closeClient(client);
      }
    });

    covers(CLAUSES.halt);
    it("a byte dropped on the line: the firmware halts, the client times out, a replug recovers", async function () {
      const dev = await emulatorOrSkip(this, board, "dropping a byte on the wire needs the emulator's line");
      let client: TKeyClient | undefined;
      try {
        client = await replug(board);
        // The LOAD_APP header byte is lost: its payload is read as frames, which the firmware rejects.
        dev.faults.add({
          where: { at: "event", event: "tkey.rx.byte", occurrence: dev.counters.rxBytes + 1 },
          what: { do: "serial-drop" },
        });
        const err = await expectError(() => client!.loadApp(appOf(board, 400)), TKeySilentError);
        expect(err).to.be.instanceOf(TKeySilentError);
        client = await connect(board);
        const silent = await expectError(() => client!.probe(), TKeySilentError);
        expect(silent, "still halted before the replug").to.be.instanceOf(TKeySilentError);
        client = await replug(board);
        expect((await client.probe()).mode).to.equal("firmware");
      } finally {
        await closeClient(client);
      }
    });
  });
});
