import { formatVersion, type PublicKey, validateImage } from "../../protocol/mcuboot/index.js";
import { ImageCommand, MgmtErr, OsCommand, type SmpBody, SmpGroup, SmpOp } from "../../protocol/smp/index.js";
import type { FlashArea } from "./flash-area.js";
import { NRF52840_FLASH, type SwapMode } from "./profile.js";
import { maxImageSize } from "./slots.js";
import { handlerKey, type SmpHandler, type SmpReply } from "./smp-server.js";

/** MCUboot BOOT_SERIAL_MAX_RECEIVE_SIZE as Zephyr's Kconfig sets it by default. */
export const RECOVERY_MAX_RECEIVE = 1024;

interface RecoverySession {
  len: number;
  /** Bytes written so far (always word-aligned until the last chunk). */
  off: number;
  /** Sectors erased so far: nRF builds erase progressively, just ahead of the writes. */
  erasedUpTo: number;
}

/**
 * MCUboot serial recovery (boot_serial.c) on the board's UART: a small command set, errors
 * always `{"rc"}`, uploads straight into the primary slot with no sha/resume, and a list of
 * only the images, in either slot, that pass full validation (signature and size limit).
 */
export class SerialRecovery {
  #session: RecoverySession | undefined;

  constructor(
    private readonly primary: FlashArea,
    private readonly secondary: FlashArea,
    private readonly mode: SwapMode,
    private readonly keys: () => readonly PublicKey[],
    private readonly scheduleReset: () => void,
    private readonly log: (detail: string) => void,
  ) {}

  handlers(): Map<string, SmpHandler> {
    const os = SmpGroup.OS;
    const img = SmpGroup.IMAGE;
    const echo: SmpHandler = async (req) =>
      typeof req.body.d === "string" ? { body: { r: req.body.d } } : { rc: MgmtErr.EINVAL };
    return new Map<string, SmpHandler>([
      [handlerKey(os, OsCommand.ECHO, SmpOp.READ), echo],
      [handlerKey(os, OsCommand.ECHO, SmpOp.WRITE), echo],
      [handlerKey(os, OsCommand.CONSOLE_ECHO, SmpOp.WRITE), async () => ({ body: {} })],
      [
        handlerKey(os, OsCommand.RESET, SmpOp.WRITE),
        async () => {
          this.scheduleReset();
          return { body: {} };
        },
      ],
      [
        handlerKey(os, OsCommand.MCUMGR_PARAMS, SmpOp.READ),
        async () => ({ body: { buf_size: RECOVERY_MAX_RECEIVE, buf_count: 1 } }),
      ],
      [handlerKey(img, ImageCommand.STATE, SmpOp.READ), async () => ({ body: this.list() })],
      // BOOT_SERIAL_IMG_GRP_IMAGE_STATE defaults to n: state writes are not supported.
      [handlerKey(img, ImageCommand.STATE, SmpOp.WRITE), async () => ({ rc: MgmtErr.ENOTSUP })],
      [handlerKey(img, ImageCommand.UPLOAD, SmpOp.WRITE), (req) => this.upload(req.body)],
    ]);
  }

  /**
   * bs_list: every slot of the image (BOOT_NUM_SLOTS is 2 in the swap and overwrite modes)
   * whose header magic is there and that passes bootutil_img_validate. bs_list_set reads the
   * sector layout first (boot_read_sectors), so the validation includes "TLV beyond image
   * size" against bootutil_max_image_size: a too-large image is left out, as a wrong-key one.
   * Without BOOT_SERIAL_IMG_GRP_IMAGE_STATE there are no flags: {slot, hash, version}.
   */
  list(): SmpBody {
    const max = maxImageSize(this.mode, this.primary, this.secondary);
    const images: SmpBody[] = [];
    for (const [slot, area] of [this.primary, this.secondary].entries()) {
      const verdict = validateImage(area.read(0, area.size), this.keys());
      if (!verdict.valid) continue;
      if (verdict.image.totalSize > max) {
        this.log(
          `serial recovery: slot ${slot} image ends past ${max} bytes (TLV beyond image size): not listed`,
        );
        continue;
      }
      images.push({ slot, hash: verdict.image.hash, version: formatVersion(verdict.image.header.version) });
    }
    return { images };
  }

  async upload(body: SmpBody): Promise<SmpReply> {
    const { off, len, data, image } = body;
    if (typeof off !== "number" || !(data instanceof Uint8Array)) return { rc: MgmtErr.EINVAL };
    if (image !== undefined && image !== 0) return { rc: MgmtErr.EINVAL };
    if (off === 0) {
      // bs_upload checks len against the slot's size only (not bootutil_max_image_size).
      if (typeof len !== "number" || len > this.primary.size) return { rc: MgmtErr.EINVAL };
      this.#session = { len, off: 0, erasedUpTo: 0 };
      this.log(`serial recovery: upload of ${len} bytes into the primary slot`);
    }
    const s = this.#session;
    if (!s || off !== s.off) return { body: { off: s?.off ?? 0 } };
    if (off + data.length > s.len) return { rc: MgmtErr.EINVAL };
    const w = NRF52840_FLASH.writeSize;
    const last = off + data.length === s.len;
    // A partial word is only written on the last chunk (padded); otherwise it is asked again via off.
    const take = last ? data.length : Math.floor(data.length / w) * w;
    if (take > 0) {
      const padded = new Uint8Array(Math.ceil(take / w) * w).fill(this.primary.flash.erasedValue);
      padded.set(data.subarray(0, take));
      await this.#eraseAhead(s, off + padded.length);
      await this.primary.write(off, padded);
    }
    s.off = off + take;
    if (s.off === s.len) {
      // The trailer sector is erased too, so no stale swap state survives the new image.
      const lastSector = this.primary.sectorCount - 1;
      if (
        s.erasedUpTo <= lastSector &&
        !this.primary.isErased(lastSector * this.primary.sectorSize, this.primary.sectorSize)
      )
        await this.primary.eraseSector(lastSector);
      this.log(`serial recovery: upload complete`);
    }
    return { body: { off: s.off } };
  }

  async #eraseAhead(s: RecoverySession, end: number): Promise<void> {
    const size = this.primary.sectorSize;
    while (s.erasedUpTo * size < end) await this.primary.eraseSector(s.erasedUpTo++);
  }
}
