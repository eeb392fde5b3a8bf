/**
 * MCUboot upload + test + swap + confirm over SMP (smp_group_1, MCUboot design.md), as a
 * campaign runs it: v1 running and confirmed, upload v2, mark it for test, reset (MCUboot
 * swaps), confirm. Recovery is what the documents give a developer: power the board (MCUboot
 * resumes an interrupted swap), ask SMP what runs; if v2 runs unconfirmed confirm it, if v1
 * runs do the update again.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { SmpClient } from "../../clients/smp/index.js";
import { isPrivate, parseImage, parsePemKey, parseVersion, signImage } from "../../protocol/mcuboot/index.js";
import type { Board } from "../../rig/board.js";
import { projectRoot } from "../../rig/load.js";
import { inspectIf } from "../../rig/require-inspect.js";
import { SmpLink } from "../../rig/smp-link.js";
import { bytesEqual } from "../../seams/bytes.js";
import { Random } from "../../sim/random.js";
import type { CampaignFamily } from "../ids.js";
import type { FaultMenu } from "../plan.js";
import type { FamilyScenario, RunContext } from "../scenario.js";

/** The application's longest boot after a reset (SmpLink's default bootMs: a whole-slot swap). */
const BOOT_MS = 60_000;

/** The most one request may take with the client's retries (plus a second of slack). */
const requestBound = (c: SmpClient) => (c.retries + 1) * c.timeoutMs + 1000;
/** An upload: the first chunk (the device erases the slot first), then each later one, retried. */
const uploadBound = (c: SmpClient, len: number) =>
  (c.retries + 1) * (c.firstChunkTimeoutMs + Math.ceil(len / 32) * c.timeoutMs) + 1000;

export const MCUBOOT_MENU: FaultMenu = {
  flash: ["power-cut", "power-cut-torn", "flash-fail", "bit-flip"],
  events: {
    "smp.upload.chunk": ["power-cut"],
    "smp.rx.frame": ["power-cut", "serial-drop", "serial-corrupt"],
  },
  time: ["power-cut"],
};

/** Signed like `hil sign -k KEY --version V -H 0x200 -S 0x76000 --pad-header`. */
function signedApp(board: Board, version: string, size: number): Uint8Array {
  const path = join(projectRoot(), "fixtures", "mcuboot", "test-only-ecdsa-p256.pem");
  const key = parsePemKey(readFileSync(path, "utf8"), path);
  if (!isPrivate(key)) throw new Error(`${path} is not a private key`);
  const r = new Random(board.seed).fork(`campaign app ${version}`);
  const payload = Uint8Array.from({ length: size }, () => r.byte());
  return signImage(payload, {
    key,
    version: parseVersion(version),
    headerSize: 0x200,
    slotSize: 0x76000,
    padHeader: true,
  });
}

export async function nrf52840McubootScenario(
  board: Board,
  id: CampaignFamily = board.family,
): Promise<FamilyScenario> {
  const dev = inspectIf(board, "nrf52840");
  if (!dev) throw new Error(`board ${board.id}: an MCUboot campaign needs an emulated nrf52840`);
  const images: Record<string, Uint8Array> = {
    "1.0.0": signedApp(board, "1.0.0", 9000),
    "1.1.0": signedApp(board, "1.1.0", 13000),
    "1.2.0": signedApp(board, "1.2.0", 11000),
  };
  const v1 = images["1.0.0"]!;
  await board.strategy.factoryReset({ image: v1 });
  const start = dev.flash.snapshot();
  const link = await SmpLink.connect(board);
  /** v2 was confirmed in this run (SMP said so): it must never be lost. */
  let confirmed: string | undefined;

  const client = (ctx: RunContext): SmpClient => {
    const c = link.client;
    if (!ctx.transcripts.some((t) => t.transcript === c.transcript)) ctx.record("smp", c.transcript);
    return c;
  };
  const ready = (ctx: RunContext) => ctx.op("wait for the application", BOOT_MS + 5000, () => link.ready());
  /**
   * Powered, the application answering: MCUboot resumes an interrupted swap at power-on, and
   * one that stopped on a flash error stays in the bootloader until the next power cycle.
   */
  const up = async (ctx: RunContext) => {
    if (dev.state === "off") await board.power.on();
    if (dev.state !== "running") await board.power.cycle();
    await ready(ctx);
  };
  const listed = (ctx: RunContext) => {
    const c = client(ctx);
    return ctx.op("image list", requestBound(c), () => c.list());
  };
  /** Upload, test, reset (MCUboot swaps), confirm: the documented update to `version`. */
  const update = async (ctx: RunContext, version: string) => {
    const image = images[version]!;
    const hash = parseImage(image).hash!;
    const c = client(ctx);
    await ctx.op("upload", uploadBound(c, image.length), () => c.upload(image));
    await ctx.op("test", requestBound(c), () => c.test(hash));
    await ctx.op("reset", requestBound(c) + BOOT_MS + 5000, () => link.reset());
    await confirmRunning(ctx, version);
  };
  const confirmRunning = async (ctx: RunContext, version: string) => {
    const c = client(ctx);
    const slots = await ctx.op("confirm", requestBound(c), () => c.confirm());
    const active = slots.find((s) => s.active);
    if (active?.version === version && active.confirmed) confirmed = version;
  };
  /** What MCUboot booted must be one of the signed images, byte for byte in the primary slot. */
  const checkRunning = (ctx: RunContext, when: string) => {
    const v = dev.runningVersion;
    const image = v === undefined ? undefined : images[v];
    if (dev.state !== "running") return;
    if (!image || !bytesEqual(dev.slot(0, image.length), image))
      ctx.violate(
        "old-or-new",
        `${when}: MCUboot booted ${v ?? "nothing"}, not a verified image in the primary slot`,
      );
    else if (confirmed && v !== confirmed)
      ctx.violate("old-or-new", `${when}: ${confirmed} was confirmed, but ${v} runs`);
  };

  return {
    family: id,
    menu: MCUBOOT_MENU,
    flash: dev.flash,
    async restore() {
      await board.power.off();
      dev.flash.restore(start);
      confirmed = undefined;
      await board.power.on();
    },
    async update(ctx) {
      await ready(ctx);
      await update(ctx, "1.1.0");
    },
    async recover(ctx) {
      if (dev.state === "off") await board.power.on();
      checkRunning(ctx, "after the update");
      await up(ctx);
      const active = (await listed(ctx)).find((s) => s.active);
      if (active?.version === "1.1.0" && active.confirmed) return;
      if (active?.version === "1.1.0") await confirmRunning(ctx, "1.1.0");
      else await update(ctx, "1.1.0");
    },
    async check(ctx) {
      await board.power.cycle();
      checkRunning(ctx, "after recovery and a power cycle");
    },
    async cleanUpdate(ctx) {
      await up(ctx);
      // An image under test must be confirmed (or reverted) before the next upload.
      if ((await listed(ctx)).some((s) => s.active && !s.confirmed)) await confirmRunning(ctx, "1.1.0");
      await update(ctx, "1.2.0");
      await board.power.cycle();
      await ready(ctx);
      const active = (await listed(ctx)).find((s) => s.active);
      if (active?.version !== "1.2.0" || !active.confirmed)
        throw new Error(
          `after the clean update ${active?.version ?? "nothing"} runs${active?.confirmed ? "" : " unconfirmed"}`,
        );
    },
  };
}
