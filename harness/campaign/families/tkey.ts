/**
 * TKey app load (the TKey firmware protocol): replug into firmware mode, FW_CMD_LOAD_APP and
 * its data chunks, the digest the firmware answers checked against BLAKE2s(app). Recovery is
 * the documented one: unplug and plug again (every power-on starts the firmware, the RAM app
 * is lost), then load again. A TKey has no flash: plans fault the serial line and the chunks.
 */
import { TKeyClient } from "../../clients/tkey/index.js";
import { appDigest } from "../../protocol/tkey/index.js";
import type { Board } from "../../rig/board.js";
import { inspectIf } from "../../rig/require-inspect.js";
import { openTKeyLink } from "../../rig/tkey-link.js";
import { bytesEqual } from "../../seams/bytes.js";
import { Random } from "../../sim/random.js";
import type { CampaignFamily } from "../ids.js";
import type { FaultMenu } from "../plan.js";
import type { FamilyScenario, RunContext } from "../scenario.js";

const OP_LIMIT_MS = 120_000;

export const TKEY_MENU: FaultMenu = {
  flash: [],
  events: {
    "tkey.chunk.received": ["power-cut", "serial-drop", "serial-corrupt"],
    "tkey.rx.byte": ["serial-drop", "serial-corrupt", "bit-flip"],
    "tkey.tx.byte": ["serial-drop", "serial-corrupt", "bit-flip"],
  },
  time: ["power-cut"],
};

/** The digest the firmware answered is not BLAKE2s(app): the device's fault. */
class DigestMismatch extends Error {
  readonly category = "device";
  override name = "DigestMismatch";
}

export async function tkeyScenario(board: Board, id: CampaignFamily): Promise<FamilyScenario> {
  const dev = inspectIf(board, "tkey");
  if (!dev) throw new Error(`board ${board.id}: a TKey campaign needs an emulated TKey`);
  const r = new Random(board.seed).fork("campaign tkey app");
  const app = Uint8Array.from({ length: 127 * 8 + 40 }, () => r.byte());
  const digest = appDigest(app);

  const load = async (ctx: RunContext) => {
    await board.strategy.transition("firmware");
    const client = new TKeyClient(await openTKeyLink(board), { clock: board.clock });
    ctx.record("tkey", client.transcript);
    const result = await ctx.op("load app", OP_LIMIT_MS, () => client.loadApp(app));
    if (!bytesEqual(result.digest, digest))
      throw new DigestMismatch("the load answered a digest other than BLAKE2s(app)");
  };
  /**
   * An app runs only with the digest BLAKE2s of the bytes that run: a byte corrupted on the
   * line (the framing has no checksum) loads another app, which the host sees by its digest
   * and recovers from by a replug and a new load.
   */
  const checkApp = (ctx: RunContext, when: string) => {
    const running = dev.app;
    if (running && !bytesEqual(running.digest, appDigest(running.image)))
      ctx.violate("old-or-new", `${when}: an app runs whose digest is not BLAKE2s of its bytes`);
  };

  return {
    family: id,
    menu: TKEY_MENU,
    async restore() {
      await board.strategy.transition("firmware");
    },
    update: load,
    async recover(ctx) {
      checkApp(ctx, "after the load");
      if (dev.app && bytesEqual(dev.app.image, app)) return;
      await load(ctx);
    },
    async check(ctx) {
      checkApp(ctx, "after recovery");
    },
    async cleanUpdate(ctx) {
      await load(ctx);
      if (!dev.app || !bytesEqual(dev.app.image, app))
        throw new Error(`after the clean load the TKey is ${dev.state}`);
    },
  };
}
