import {
  compareVersions,
  formatVersion,
  IMAGE_HEADER_SIZE,
  IMAGE_MAGIC,
  ImageFlag,
  type ParsedImage,
  SwapType,
} from "../../protocol/mcuboot/index.js";
import {
  ImageCommand,
  ImgMgmtErr,
  MgmtErr,
  type SmpBody,
  SmpGroup,
  SmpOp,
} from "../../protocol/smp/index.js";
import { bytesEqual } from "../../seams/bytes.js";
import type { FlashArea } from "./flash-area.js";
import { NRF52840_FLASH } from "./profile.js";
import { imageInfo, setNext, swapTypeOf, trailerOf } from "./slots.js";
import { handlerKey, type SmpHandler, type SmpReply } from "./smp-server.js";

export interface ImgMgmtContext {
  primary: FlashArea;
  secondary: FlashArea;
  log(detail: string): void;
  /** A protocol event fault plans can hook ("smp.upload.chunk", "smp.state.write"). */
  event(name: string): void;
  /**
   * CONFIG_MCUMGR_GRP_IMG_ALLOW_ERASE_PENDING (Zephyr's default y): a secondary set for the
   * next boot (TEST, or PERM) still counts as free for upload and erase; a REVERT's never.
   */
  allowErasePending?: boolean;
  /** Spends the device time an upload chunk of `bytes` takes beyond its flash writes (line, server). */
  lineMs?(bytes: number): Promise<void>;
}

/** img_mgmt_get_next_boot_slot on a single image: the slot MCUboot boots next, and why. */
interface NextBoot {
  slot: 0 | 1;
  type: "normal" | "test" | "revert";
}

interface UploadSession {
  len: number;
  sha: Uint8Array | undefined;
  /** Next expected offset. */
  off: number;
  /** Bytes received but not yet written: flash writes are whole words. */
  tail: Uint8Array;
}

const E = ImgMgmtErr;
const fail = (groupRc: number): SmpReply => ({ groupRc });

/**
 * Zephyr's image management group (img_mgmt.c, img_mgmt_state.c) on a single-image,
 * two-slot MCUboot device: state read/write from the trailers, upload into the secondary
 * slot (sessions live in RAM, so a reset ends them), erase. The app does not check
 * signatures: that is MCUboot's job at the next boot.
 */
export class ImgMgmt {
  #session: UploadSession | undefined;

  constructor(private readonly ctx: ImgMgmtContext) {}

  handlers(): Map<string, SmpHandler> {
    const g = SmpGroup.IMAGE;
    return new Map<string, SmpHandler>([
      [handlerKey(g, ImageCommand.STATE, SmpOp.READ), async () => ({ body: this.stateBody() })],
      [handlerKey(g, ImageCommand.STATE, SmpOp.WRITE), (req) => this.stateWrite(req.body)],
      [handlerKey(g, ImageCommand.UPLOAD, SmpOp.WRITE), (req) => this.upload(req.body)],
      [handlerKey(g, ImageCommand.ERASE, SmpOp.WRITE), (req) => this.erase(req.body)],
    ]);
  }

  swapType(): SwapType {
    return swapTypeOf(trailerOf(this.ctx.primary), trailerOf(this.ctx.secondary));
  }

  /** The state-read body: every listable slot with all five flags (FRUGAL_LIST off) and splitStatus. */
  stateBody(): SmpBody {
    const type = this.swapType();
    const images: SmpBody[] = [];
    for (const [slot, area] of [this.ctx.primary, this.ctx.secondary].entries()) {
      const info = imageInfo(area);
      if (!info) continue;
      const active = slot === 0;
      images.push({
        slot,
        version: formatVersion(info.header.version),
        hash: info.hash,
        bootable: (info.header.flags & ImageFlag.NON_BOOTABLE) === 0,
        pending: !active && (type === SwapType.TEST || type === SwapType.PERM),
        confirmed: active ? type !== SwapType.REVERT : type === SwapType.REVERT,
        active,
        permanent: !active && type === SwapType.PERM,
      });
    }
    return { images, splitStatus: 0 };
  }

  /**
   * img_mgmt_state_write: the slot from the hash (or the active one for a confirm without
   * hash), then img_mgmt_set_next_boot_slot's rules against the next boot, in its order.
   * Requests that change nothing answer the state without writing.
   */
  async stateWrite(body: SmpBody): Promise<SmpReply> {
    const { hash, confirm } = body;
    if (hash !== undefined && !(hash instanceof Uint8Array)) return { rc: MgmtErr.EINVAL };
    if (confirm !== undefined && typeof confirm !== "boolean") return { rc: MgmtErr.EINVAL };
    let slot: number;
    if (hash === undefined) {
      if (confirm !== true) return fail(E.INVALID_HASH);
      slot = 0;
    } else {
      if (hash.length !== 32) return fail(E.INVALID_HASH);
      slot = [this.ctx.primary, this.ctx.secondary].findIndex((a) => equal(imageInfo(a)?.hash, hash));
      if (slot < 0) return fail(E.HASH_NOT_FOUND);
    }
    const ok = confirm === true;
    if (!ok && slot === 0) return fail(E.IMAGE_SETTING_TEST_TO_ACTIVE_DENIED);
    const next = this.nextBoot();
    const unchanged = { body: this.stateBody() };
    if (next.type === "test") {
      // While a test is due, only asking for the same test again is accepted.
      if (!ok && slot === next.slot) return unchanged;
      return fail(E.IMAGE_ALREADY_PENDING);
    }
    if (next.type === "normal") {
      if (ok && slot === next.slot) return unchanged;
      if ((slot === 0 && next.slot !== 0) || (!ok && slot !== 0 && slot === next.slot))
        return fail(E.IMAGE_ALREADY_PENDING);
    }
    if (next.type === "revert") {
      if (ok && slot === next.slot) return unchanged;
      if (!ok) return fail(E.IMAGE_ALREADY_PENDING);
    }
    return this.#setNext(slot, ok);
  }

  /**
   * img_mgmt_get_next_boot_slot from mcuboot_swap_type_multi (the trailers only, nothing is
   * validated): NONE boots the active slot, PERM the other one (both "normal"), TEST and
   * REVERT the other one.
   */
  nextBoot(): NextBoot {
    switch (this.swapType()) {
      case SwapType.PERM:
        return { slot: 1, type: "normal" };
      case SwapType.TEST:
        return { slot: 1, type: "test" };
      case SwapType.REVERT:
        return { slot: 1, type: "revert" };
      default:
        return { slot: 0, type: "normal" };
    }
  }

  /**
   * img_mgmt_slot_in_use: the slot a revert goes back to is in use; a slot due for the next
   * boot (TEST, or PERM) is too unless ALLOW_ERASE_PENDING; the active slot always is.
   */
  slotInUse(slot: number): boolean {
    const next = this.nextBoot();
    if (slot === next.slot && next.type === "revert") return true;
    const pending =
      (slot === next.slot && next.type === "test") || (next.slot !== 0 && next.type === "normal");
    if (pending && this.ctx.allowErasePending === false) return true;
    return slot === 0;
  }

  /**
   * img_mgmt_set_next_boot_slot_common: boot_set_next, its BOOT_E* code translated to the
   * group's: EFLASH (a trailer write failed) → FLASH_WRITE_FAILED, EBADVECT (the active slot's
   * magic is bad) → INVALID_IMAGE_VECTOR_TABLE, EBADIMAGE (the other slot's magic is bad) →
   * INVALID_IMAGE_HEADER_MAGIC, anything else → UNKNOWN. A bad magic is refused before any
   * write (MCUboot before 68a4c962, June 2025, erased the whole non-active slot here).
   */
  async #setNext(slot: number, confirm: boolean): Promise<SmpReply> {
    const area = slot === 0 ? this.ctx.primary : this.ctx.secondary;
    let rc: Awaited<ReturnType<typeof setNext>>;
    try {
      rc = await setNext(area, slot === 0, confirm);
    } catch (e) {
      if ((e as Error).name === "FlashAreaError") return fail(E.FLASH_WRITE_FAILED);
      throw e;
    }
    if (rc === "EBADVECT") return fail(E.INVALID_IMAGE_VECTOR_TABLE);
    if (rc === "EBADIMAGE") return fail(E.INVALID_IMAGE_HEADER_MAGIC);
    this.ctx.event("smp.state.write");
    this.ctx.log(
      `image state: slot ${slot} ${slot === 0 ? "confirmed" : confirm ? "pending permanent" : "pending test"}`,
    );
    return { body: this.stateBody() };
  }

  async upload(body: SmpBody): Promise<SmpReply> {
    const { off, len, data, sha, image, upgrade } = body;
    if (off === undefined) return fail(E.INVALID_OFFSET);
    if (!isUint(off) || (len !== undefined && !isUint(len)) || (image !== undefined && !isUint(image)))
      return { rc: MgmtErr.EINVAL };
    if (
      (data !== undefined && !(data instanceof Uint8Array)) ||
      (sha !== undefined && !(sha instanceof Uint8Array))
    )
      return { rc: MgmtErr.EINVAL };
    if (upgrade !== undefined && typeof upgrade !== "boolean") return { rc: MgmtErr.EINVAL };
    if (image !== undefined && image !== 0) return fail(E.INVALID_SLOT);
    const chunk = data ?? new Uint8Array(0);
    if (off === 0) {
      const first = await this.#begin(chunk, len, sha, upgrade === true);
      if (first) return first;
    }
    const s = this.#session;
    if (!s) return { body: { off: 0 } };
    if (off !== s.off) return { body: { off: s.off } };
    if (off + chunk.length > s.len) return fail(E.INVALID_IMAGE_DATA_OVERRUN);
    if (chunk.length > 0) await this.ctx.lineMs?.(chunk.length);
    try {
      await this.#write(s, chunk);
    } catch (e) {
      this.#session = undefined;
      if ((e as Error).name === "FlashAreaError") return fail(E.FLASH_WRITE_FAILED);
      throw e;
    }
    if (s.off === s.len) this.ctx.log(`upload complete: ${s.len} bytes`);
    this.ctx.event("smp.upload.chunk");
    return { body: { off: s.off } };
  }

  /** First-chunk checks in Zephyr's order, then the erase. Returns a reply when the request stops here. */
  async #begin(
    chunk: Uint8Array,
    len: unknown,
    sha: Uint8Array | undefined,
    upgrade: boolean,
  ): Promise<SmpReply | undefined> {
    if (chunk.length < IMAGE_HEADER_SIZE) return fail(E.INVALID_IMAGE_HEADER);
    if (len === undefined) return fail(E.INVALID_LENGTH);
    if (new DataView(chunk.buffer, chunk.byteOffset).getUint32(0, true) !== IMAGE_MAGIC)
      return fail(E.INVALID_IMAGE_HEADER_MAGIC);
    if (sha && sha.length > 32) return fail(E.INVALID_HASH);
    const s = this.#session;
    if (sha && s?.sha && s.off < s.len && equal(s.sha, sha)) return { body: { off: s.off } };
    // img_mgmt_get_unused_slot_area_id: slot 0 is the active one, so slot 1 or nothing.
    if (this.slotInUse(1)) return fail(E.NO_FREE_SLOT);
    const total = len as number;
    if (total > this.ctx.secondary.size) return fail(E.INVALID_IMAGE_TOO_LARGE);
    if (upgrade) {
      const running = imageInfo(this.ctx.primary);
      const incoming = versionOf(chunk);
      if (running && compareVersions(incoming, running.header.version) <= 0)
        return fail(E.CURRENT_VERSION_IS_NEWER);
    }
    this.#session = undefined;
    await this.#eraseFor(total);
    this.#session = { len: total, sha: sha?.slice(), off: 0, tail: new Uint8Array(0) };
    this.ctx.log(`upload started: ${total} bytes`);
    return undefined;
  }

  async #eraseFor(len: number): Promise<void> {
    const area = this.ctx.secondary;
    const sectors = Math.ceil(len / area.sectorSize);
    for (let i = 0; i < area.sectorCount; i++) {
      // The sectors the image needs, and the trailer sector so no stale request survives.
      const needed = i < sectors || i === area.sectorCount - 1;
      if (needed && !area.isErased(i * area.sectorSize, area.sectorSize)) await area.eraseSector(i);
    }
  }

  async #write(s: UploadSession, chunk: Uint8Array): Promise<void> {
    const w = NRF52840_FLASH.writeSize;
    const buf = new Uint8Array(s.tail.length + chunk.length);
    buf.set(s.tail);
    buf.set(chunk, s.tail.length);
    const writtenUpTo = s.off - s.tail.length;
    const last = s.off + chunk.length === s.len;
    let whole = Math.floor(buf.length / w) * w;
    let out = buf.subarray(0, whole);
    if (last && whole < buf.length) {
      // The last partial word is padded with the erased value.
      const padded = new Uint8Array(whole + w).fill(this.ctx.secondary.flash.erasedValue);
      padded.set(buf);
      out = padded;
      whole = buf.length;
    }
    if (out.length > 0) await this.ctx.secondary.write(writtenUpTo, out);
    s.tail = buf.slice(whole);
    s.off += chunk.length;
  }

  /**
   * img_mgmt_erase: a slot holding a readable image (img_mgmt_read_info) that is in use is
   * NO_FREE_SLOT; anything else is erased, a header-less slot with a stale request included.
   */
  async erase(body: SmpBody): Promise<SmpReply> {
    const slot = body.slot ?? 1;
    if (!isUint(slot)) return { rc: MgmtErr.EINVAL };
    if (slot !== 0 && slot !== 1) return fail(E.INVALID_SLOT);
    const area = slot === 0 ? this.ctx.primary : this.ctx.secondary;
    if (imageInfo(area) && this.slotInUse(slot)) return fail(E.NO_FREE_SLOT);
    this.#session = undefined;
    for (let i = 0; i < area.sectorCount; i++)
      if (!area.isErased(i * area.sectorSize, area.sectorSize)) await area.eraseSector(i);
    return { body: {} };
  }
}

function versionOf(chunk: Uint8Array): ParsedImage["header"]["version"] {
  const v = new DataView(chunk.buffer, chunk.byteOffset);
  return {
    major: chunk[20]!,
    minor: chunk[21]!,
    revision: v.getUint16(22, true),
    build: v.getUint32(24, true),
  };
}

function isUint(v: unknown): v is number {
  return typeof v === "number" && Number.isInteger(v) && v >= 0;
}

function equal(a: Uint8Array | undefined, b: Uint8Array): boolean {
  return !!a && bytesEqual(a, b);
}
