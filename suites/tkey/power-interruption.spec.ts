import { expect } from "chai";
import { type TKeyClient, TKeyGoneError, TKeySilentError } from "../../harness/clients/tkey/index.js";
import { bytesEqual, covers, expectError, forEachBoard, getRig, sweep } from "../../harness/index.js";
import { appDigest } from "../../harness/protocol/tkey/index.js";
import { appOf, CLAUSES, closeClient, connect, emulatedTKey, emulatorOrSkip, replug } from "./fixture.js";

/**
 * Power cut after chunk k, for every k on an emulated TKey and a sample on a lab rig: the
 * cut rides on the client's progress event, so the same scenario works with a relay. The
 * TKey holds the app in RAM only, so afterwards it must be back in firmware mode and a
 * reload must give the right digest.
 */
const rig = getRig();
const APP_SIZE = 127 * 12 + 40;
const CHUNKS = Math.ceil(APP_SIZE / 127);

describe("tkey: power interruption during an app load", () => {
  forEachBoard(rig, { family: "tkey", capabilities: ["power-cut"] }, (board) => {
    const ks = board.emulated
      ? Array.from({ length: CHUNKS }, (_, i) => i + 1)
      : [1, Math.ceil(CHUNKS / 2), CHUNKS];

    covers(CLAUSES.power, CLAUSES.loadApp, CLAUSES.digest);
    it(`a power cut after chunk k (k = ${board.emulated ? `every one of 1..${CHUNKS}` : ks.join(", ")}) leaves firmware mode and a reload succeeds`, async () => {
      const app = appOf(board, APP_SIZE);
      let outcome: unknown;
      // Each point's replug closes the last point's port; the test closes the last one.
      let client: TKeyClient | undefined;
      const swept = sweep({
        count: async () => CHUNKS,
        points: () => ks,
        label: (k) => `k=${k}`,
        run: async (k) => {
          client = await replug(board);
          let cut: Promise<void> | undefined;
          client.events.on("chunk", (e) => {
            if (e.index === k) cut = board.power.off();
          });
          outcome = await client.loadApp(app).then(
            () => "loaded",
            (e: unknown) => e,
          );
          await cut;
        },
        check: async (k, _total, thrown) => {
          if (thrown) throw thrown;
          const problems: string[] = [];
          // Before the last chunk the cut ends the load; after it, the app had already started.
          // A lab power backend (a command, a relay, a hub) takes wall time: the host may hear
          // the unpowered TKey's silence before the OS drops its port. The client must still
          // end the load with one of the two, never a success or another error.
          const ended =
            outcome instanceof TKeyGoneError || (!board.emulated && outcome instanceof TKeySilentError);
          if (k < CHUNKS && !ended)
            problems.push(
              `load ended with ${String(outcome)}, expected the port to vanish${board.emulated ? "" : " (or silence first)"}`,
            );
          await board.power.on();
          client = await connect(board);
          const probe = await client.probe();
          if (probe.mode !== "firmware") problems.push(`after power-on the probe found ${probe.mode}`);
          const reload = await client.loadApp(app);
          if (!bytesEqual(reload.digest, appDigest(app))) problems.push("reload digest differs");
          const dev = emulatedTKey(board);
          if (dev && dev.state !== dev.profile.stateNames.running)
            problems.push(`state ${dev.state} after reload`);
          return { problem: problems };
        },
      });
      const { failures } = await swept.finally(() => closeClient(client));
      expect(
        failures,
        `${failures.length} of ${ks.length} cut points failed:\n${failures.join("\n")}\n`,
      ).to.deep.equal([]);
    });

    covers(CLAUSES.power);
    it("a power cut by the emulator's fault plan after chunk k (the device side of the same cut)", async function () {
      const dev = await emulatorOrSkip(
        this,
        board,
        "the device-side cut comes from the emulator's fault plan",
      );
      let client: TKeyClient | undefined;
      try {
        client = await replug(board);
        dev.faults.add({
          where: { at: "event", event: "tkey.chunk.acked", occurrence: dev.counters.chunks + 4 },
          what: { do: "power-cut" },
        });
        const err = await expectError(() => client!.loadApp(appOf(board, APP_SIZE)), TKeyGoneError);
        expect(err).to.be.instanceOf(TKeyGoneError);
        expect(dev.state).to.equal("off");
        await board.power.on();
        client = await connect(board);
        expect((await client.probe()).mode).to.equal("firmware");
      } finally {
        await closeClient(client);
      }
    });
  });
});
