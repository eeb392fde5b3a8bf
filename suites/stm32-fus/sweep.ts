/**
 * Power-cut sweep of a FUS operation on an emulated WB55: a clean run counts the flash
 * operations FUS itself performs (after FUS_FW_UPGRADE), then for every N the same run with
 * the power cut before FUS's N-th operation (clean or torn). After each cut the board is
 * powered again: FUS must come back to a documented state (idle, or the stack running),
 * never bricked, and a repeated operation must succeed (AN5185 Table 3 "Other failures").
 */
import { expect } from "chai";
import { buildFusImage, v } from "../../fixtures/fus/build.js";
import type { FusClient } from "../../harness/clients/fus/index.js";
import { type Board, flashOpCut, type SweepResult, sweep } from "../../harness/index.js";
import { decodeVersion } from "../../harness/protocol/fus/index.js";
import { factoryReset, inspected, openFus, type Transport } from "./fixture.js";

export type FusScenario = "install" | "upgrade" | "fus-upgrade";

/** `outcomes`: where FUS came back after the cut ("IDLE", "NOT_RUNNING", ...). */
export type FusSweepResult = SweepResult;

function images(scenario: FusScenario, sectors: number) {
  const SMALL = { sectors };
  const stackV1 = buildFusImage({ kind: "wireless-stack", version: v(1, 0, 0), ...SMALL, label: "sweep-1" });
  const stackV2 = buildFusImage({ kind: "wireless-stack", version: v(2, 0, 0), ...SMALL, label: "sweep-2" });
  const fus = buildFusImage({ kind: "fus", version: v(2, 2, 0), sectors: 8, label: "sweep-fus" });
  return scenario === "install"
    ? { before: undefined, image: stackV1 }
    : scenario === "upgrade"
      ? { before: stackV1, image: stackV2 }
      : { before: stackV1, image: fus };
}

/** Device in the scenario's starting state, FUS running, image staged; returns the client and where it went. */
async function prepare(board: Board, transport: Transport, scenario: FusScenario, sectors: number) {
  const { before, image } = images(scenario, sectors);
  await factoryReset(board, { stack: false });
  const client = await openFus(board, transport, { offlineTimeoutMs: 10_000 });
  if (before) await client.fwUpgrade(before);
  await client.startFus();
  const address = await client.stagingAddress(image);
  await client.link.writeFlash(address, image);
  return { client, image, address };
}

async function operate(client: FusClient, image: Uint8Array, address: number): Promise<void> {
  await client.fwUpgrade(image, { address, stage: false });
}

export async function fusPowerCutSweep(
  board: Board,
  transport: Transport,
  scenario: FusScenario,
  opts: {
    torn?: boolean;
    /** Cut points to try (default: every one, 1..total). */
    points?: (total: number) => Iterable<number>;
    /** Stack image size in 4 KB sectors (default 4: a small stack keeps the sweep short). */
    sectors?: number;
  } = {},
): Promise<FusSweepResult> {
  const dev = inspected(board);
  const sectors = opts.sectors ?? 4;
  let image: Uint8Array = new Uint8Array(0);
  return sweep({
    clock: board.clock,
    count: async () => {
      const ref = await prepare(board, transport, scenario, sectors);
      const ops0 = dev.chip.flash.counters.ops;
      await operate(ref.client, ref.image, ref.address);
      const total = dev.chip.flash.counters.ops - ops0;
      expect(total, "FUS performs flash operations").to.be.above(0);
      await ref.client.link.close();
      return total;
    },
    points: opts.points,
    label: (n, total) => `FUS flash op ${n}/${total}${opts.torn ? " (torn)" : ""}`,
    run: async (n) => {
      const prepared = await prepare(board, transport, scenario, sectors);
      image = prepared.image;
      flashOpCut(dev.chip.flash, opts.torn)(n);
      await operate(prepared.client, image, prepared.address).catch(() => {});
      dev.chip.flash.disarmCut();
      await prepared.client.link.close();
    },
    check: async (_n, _total, thrown) => {
      if (thrown) throw thrown;
      if (dev.power.isOn) return "the cut never happened";
      const problems: string[] = [];
      let outcome: string | undefined;
      try {
        await dev.power.on();
        await board.clock.sleep(15_000); // FUS recovery may take several resets
        const after = await openFus(board, transport, { offlineTimeoutMs: 10_000 });
        const first = await after.getState();
        outcome = first
          ? first.state === 0xff && first.error === 0xfe
            ? "NOT_RUNNING"
            : (first.stateName ?? "?")
          : "silent";
        if (!["IDLE", "NOT_RUNNING"].includes(outcome)) problems.push(`came back in ${outcome}`);
        // A repeated operation succeeds.
        await after.fwUpgrade(image);
        const info = await after.readDeviceInfo();
        const version = scenario === "fus-upgrade" ? info.fusVersion : info.wirelessStackVersion;
        const want = scenario === "upgrade" ? 2 : scenario === "fus-upgrade" ? 2 : 1;
        if (decodeVersion(version).major !== want)
          problems.push(`version after the repeat is ${version.toString(16)}`);
        await after.link.close();
      } catch (e) {
        problems.push((e as Error).message);
      }
      return { outcome, problem: problems };
    },
  });
}
