import { expect, use } from "chai";
import type { SmpError } from "../../harness/clients/smp/index.js";
import { covers, flashChai, forEachBoard, getRig } from "../../harness/index.js";
import { ImgMgmtErr, SmpGroup, SmpOp } from "../../harness/protocol/smp/index.js";
import { factory, hashOf, info, mcubootHooks, signedApp, slotBytes } from "./fixture.js";

use(flashChai);

const rig = getRig();
const UPLOAD = "Zephyr smp_group_1.rst: image upload request/response, img_mgmt_err_code_t";
const rcOf = async (p: Promise<unknown>) => ((await p.catch((e) => e)) as SmpError).rc;

describe("mcuboot: error injection", () => {
  forEachBoard(rig, { family: "nrf52840", capabilities: ["usart"] }, (board) => {
    mcubootHooks(board);

    covers("MCUboot image_validate.c: SHA256 TLV must match", UPLOAD);
    it("a corrupted image (hash mismatch) is accepted by the app, refused by MCUboot and erased", async () => {
      const v1 = signedApp(board, "1.0.0", 9000);
      const v2 = signedApp(board, "1.1.0", 12000).slice();
      v2[info(v2).payloadOffset + 100]! ^= 0x01;
      const s = await factory(board, v1);
      await s.client.upload(v2);
      await s.client.test(hashOf(v2));
      await s.reset();
      expect(await s.running()).to.equal("1.0.0");
      expect(
        (await s.client.list()).map((i) => i.slot),
        "slot 1 erased, not listed",
      ).to.deep.equal([0]);
      if (s.dev) {
        expect(s.dev.secondary.isErased(0, s.dev.secondary.size)).to.equal(true);
        expect(s.dev.events.map((e) => e.detail).join("\n")).to.match(/SHA256 TLV does not match/);
      }
    });

    covers(UPLOAD, "Zephyr img_mgmt_read_info: slots that fail it are not listed");
    it("a truncated upload leaves no listable image: testing its hash is HASH_NOT_FOUND", async () => {
      const v1 = signedApp(board, "1.0.0", 9000);
      const v2 = signedApp(board, "1.1.0", 12000);
      const { client } = await factory(board, v1);
      const stop = new Error("link lost");
      await client
        .upload(v2, {
          onProgress: (p) => {
            if (p.off > v2.length / 2) throw stop;
          },
        })
        .catch((e) => expect(e).to.equal(stop));
      expect((await client.list()).map((i) => i.slot)).to.deep.equal([0]);
      expect(await rcOf(client.test(hashOf(v2)))).to.equal(ImgMgmtErr.HASH_NOT_FOUND);
    });

    covers(UPLOAD);
    it("a chunk at the wrong offset is answered with the expected offset (rc 0), not written", async () => {
      const v1 = signedApp(board, "1.0.0", 9000);
      const v2 = signedApp(board, "1.1.0", 12000);
      const s = await factory(board, v1);
      const up = (body: Record<string, unknown>) =>
        s.client.request("upload", SmpGroup.IMAGE, 1, SmpOp.WRITE, body);
      expect(await up({ off: 0, len: v2.length, data: v2.subarray(0, 256) })).to.deep.equal({ off: 256 });
      expect(await up({ off: 512, data: v2.subarray(512, 768) })).to.deep.equal({ off: 256 });
      if (s.dev) expect(s.dev.secondary.isErased(512, 256)).to.equal(true);
      expect(await up({ off: 256, data: v2.subarray(256, 512) })).to.deep.equal({ off: 512 });
      if (s.dev) expect(slotBytes(s.dev, 1, 512)).to.equalBytes(v2.subarray(0, 512));
    });

    covers(
      UPLOAD,
      "Zephyr img_mgmt_slot_in_use: a slot set for test is free with MCUMGR_GRP_IMG_ALLOW_ERASE_PENDING (default y)",
    );
    it("upload while a test is pending is accepted and replaces the pending image (ALLOW_ERASE_PENDING default)", async () => {
      const v1 = signedApp(board, "1.0.0", 9000);
      const v2 = signedApp(board, "1.1.0", 12000);
      const v3 = signedApp(board, "1.2.0", 500);
      const { client } = await factory(board, v1);
      await client.upload(v2);
      await client.test(hashOf(v2));
      await client.upload(v3);
      const list = await client.list();
      expect(list.map((i) => [i.slot, i.version, i.pending])).to.deep.equal([
        [0, "1.0.0", false],
        [1, "1.2.0", false],
      ]);
    });

    covers("Zephyr smp_transport.rst / MCUboot boot_serial: bad frames are dropped without a response");
    it("frames with a bad CRC or bad base64 get no answer at all; the next good frame is served", async () => {
      const v1 = signedApp(board, "1.0.0", 9000);
      const s = await factory(board, v1);
      const line = s.link.stream;
      const enc = new TextEncoder();
      await line.write(enc.encode("\x06\x09AAAAAAAAAAAA\n"));
      await line.write(enc.encode("\x06\x09not*base64!!\n"));
      await board.clock.sleep(1000);
      expect(line.readAvailable(), "no answer").to.have.length(0);
      expect(await s.client.echo("still there")).to.equal("still there");
    });
  });
});
