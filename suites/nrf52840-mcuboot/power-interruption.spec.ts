import { expect, use } from "chai";
import {
  type Board,
  bytesEqual,
  covers,
  evidenceNote,
  expectError,
  flashChai,
  forEachBoard,
  getRig,
  type Nrf52840Inspect,
  sectorMap,
} from "../../harness/index.js";
import { BootFlagState, BootMagicState } from "../../harness/protocol/mcuboot/index.js";
import { factory, hashOf, mcubootHooks, signedApp, slotBytes, trailers } from "./fixture.js";

use(flashChai);

/**
 * MCUboot's simulator method (sim/src/image.rs run_perm_with_fails, run_revert_with_fails):
 * count the flash operations of a clean swap, then for every N cut power before operation N,
 * boot again to completion and check the slots and trailers. Failures are collected so one
 * run shows every bad cut point.
 */
const rig = getRig();
const SIM = "MCUboot sim/src/image.rs: power-fail loop (cut before flash operation N, resume on next boot)";
const TRAILER = "MCUboot design.md: image trailer states after a swap";

type Kind = "test" | "perm" | "revert";

/**
 * These scenarios cut power at flash operations and read the slots: emulator only (their
 * BoardNeed asks for flash-faults and inspect, so a lab board is skipped with the reason).
 */
async function emulatedSession(board: Board, v1: Uint8Array) {
  const s = await factory(board, v1);
  if (!s.dev) throw new Error(`board ${board.id} was selected without the inspect capability`);
  return { dev: s.dev, client: s.client };
}

/** Board powered off with a swap of `kind` due at the next boot; returns the images involved. */
async function stage(board: Board, kind: Kind) {
  const v1 = signedApp(board, "1.0.0", 9000);
  const v2 = signedApp(board, "1.1.0", 13000);
  const { dev, client } = await emulatedSession(board, v1);
  await client.upload(v2);
  if (kind === "perm") await client.confirm(hashOf(v2));
  else await client.test(hashOf(v2));
  if (kind === "revert") {
    await dev.power.cycle();
    expect(dev.runningVersion).to.equal("1.1.0");
  }
  await dev.power.off();
  // After the swap: the image that should run, and the one left in the secondary.
  const [runs, kept] = kind === "revert" ? [v1, v2] : [v2, v1];
  return { dev, runs, kept };
}

/** Both slots' sectors over the images' length: O the old image, N the new one, . erased, x other. */
function slotMap(dev: Nrf52840Inspect, old: Uint8Array, next: Uint8Array): string {
  const length = Math.max(old.length, next.length);
  const slot = (offset: number) => {
    const address = dev.flash.base + offset;
    return sectorMap(
      dev.flash,
      { address, length },
      { O: { address, bytes: old }, N: { address, bytes: next } },
    );
  };
  return `primary [${slot(dev.layout.primary.offset)}] secondary [${slot(dev.layout.secondary.offset)}]`;
}

function check(dev: Nrf52840Inspect, kind: Kind, runs: Uint8Array, kept: Uint8Array): string | undefined {
  const t = trailers(dev);
  const problems: string[] = [];
  if (dev.state !== "running") problems.push(`state ${dev.state}`);
  if (!bytesEqual(slotBytes(dev, 0, runs.length), runs)) problems.push("primary is not the expected image");
  if (!bytesEqual(slotBytes(dev, 1, kept.length), kept))
    problems.push("secondary does not hold the other image");
  if (t.primary.magic !== BootMagicState.GOOD) problems.push("primary magic not GOOD");
  if (t.primary.copyDone !== BootFlagState.SET) problems.push("primary copy_done not SET");
  const ok = kind === "test" ? BootFlagState.UNSET : BootFlagState.SET;
  if (t.primary.imageOk !== ok) problems.push(`primary image_ok ${t.primary.imageOk}, expected ${ok}`);
  if (t.secondary.magic !== BootMagicState.UNSET) problems.push("secondary trailer not erased");
  return problems.length ? problems.join("; ") : undefined;
}

describe("mcuboot: power interruption during MCUboot swaps", () => {
  forEachBoard(
    rig,
    { family: "nrf52840", capabilities: ["power-cut", "flash-faults", "usart", "inspect"] },
    (board) => {
      mcubootHooks(board);

      for (const kind of ["test", "perm", "revert"] as const) {
        covers(SIM, TRAILER);
        it(`${kind.toUpperCase()} swap: a cut before any flash operation resumes on the next boot to the documented state`, async () => {
          const { dev, runs, kept } = await stage(board, kind);
          const { total, failures } = await dev.sweepSwapCuts(
            async (n) => {
              const problems: string[] = [];
              if (dev.state !== "off") problems.push(`the cut did not happen (${dev.state})`);
              // The swap's progress as the cut left it (swap-using-move shifts the primary: x).
              const map = slotMap(dev, kind === "revert" ? runs : kept, kind === "revert" ? kept : runs);
              evidenceNote("slots after each cut (O old image, N new, . erased, x other)", `op ${n}: ${map}`);
              const err = await dev.power.on().then(
                () => undefined,
                (e: Error) => e,
              );
              const problem = err ? `resume failed: ${err.message}` : check(dev, kind, runs, kept);
              if (problem) problems.push(`(${map}) ${problem}`);
              return problems.length > 0 ? problems.join("; ") : undefined;
            },
            {
              afterCleanSwap: (ops) => {
                expect(check(dev, kind, runs, kept), "an uninterrupted swap").to.equal(undefined);
                expect(ops, "a swap erases and writes").to.be.above(20);
              },
            },
          );
          expect(failures, `${failures.length} of ${total} cut points failed`).to.deep.equal([]);
        });
      }

      covers(SIM);
      it("two cuts in one swap (seeded random points) still end in the documented state", async () => {
        const { dev, runs, kept } = await stage(board, "test");
        let r = board.seed >>> 0;
        const next = (bound: number) => {
          r = (Math.imul(r, 1664525) + 1013904223) >>> 0;
          return 1 + (r % bound);
        };
        const failures = await dev.sweepDoubleCuts(
          (total) => Array.from({ length: 10 }, () => [next(total), next(total)] as [number, number]),
          () => check(dev, "test", runs, kept),
        );
        expect(failures).to.deep.equal([]);
      });

      covers("Zephyr smp_group_1.rst: upload resumes by sha (session in RAM)", SIM);
      it("an upload cut by power loss starts again from 0: no session survives the cut", async () => {
        const v1 = signedApp(board, "1.0.0", 9000);
        const v2 = signedApp(board, "1.1.0", 13000);
        const { dev, client } = await emulatedSession(board, v1);
        const before = dev.flash.counters.ops;
        dev.flash.armCut(before + 8);
        const err = await expectError(() => client.upload(v2), "SmpTimeoutError");
        expect(err).to.be.instanceOf(Error).with.property("name", "SmpTimeoutError");
        expect(dev.state).to.equal("off");
        await dev.power.on();
        expect(dev.runningVersion, "the running image was never touched").to.equal("1.0.0");
        const again: number[] = [];
        await client.upload(v2, { onProgress: (p) => again.push(p.off) });
        expect(again[0], "no session survived the cut").to.be.below(400);
        expect(slotBytes(dev, 1, v2.length)).to.equalBytes(v2);
      });
    },
  );

  // The host stopping mid-upload needs no power control nor flash access: lab boards too.
  forEachBoard(rig, { family: "nrf52840", capabilities: ["usart"] }, (board) => {
    mcubootHooks(board);

    covers("Zephyr smp_group_1.rst: upload resumes by sha (session in RAM)");
    it("an upload the host stopped resumes from the offset the device reports (same file, same sha)", async () => {
      const v1 = signedApp(board, "1.0.0", 9000);
      const v2 = signedApp(board, "1.1.0", 13000);
      const { dev, client } = await factory(board, v1);
      let chunks = 0;
      let reached = 0;
      const lost = new Error("host stopped");
      await client
        .upload(v2, {
          onProgress: (p) => {
            reached = p.off;
            if (++chunks === 10) throw lost;
          },
        })
        .catch((e) => expect(e).to.equal(lost));
      const offs: number[] = [];
      await client.upload(v2, { onProgress: (p) => offs.push(p.off) });
      // The first answer names where the device's session stands: the next chunk goes on from there.
      expect(offs[0], "resumed from the device's offset, not from 0").to.be.at.least(reached);
      // What the device holds, as the list reports it (and byte for byte on an emulator).
      const pending = (await client.list()).find((i) => !i.active);
      expect(pending?.hash, "the secondary holds the uploaded image").to.equalBytes(hashOf(v2));
      if (dev) expect(slotBytes(dev, 1, v2.length)).to.equalBytes(v2);
    });
  });
});
