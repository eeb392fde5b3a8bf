import { expect } from "chai";
import { annotateSmp } from "../../../harness/protocol/smp/index.js";
import { app, board } from "../../devices/nrf52840/helpers.js";

describe("protocol/smp: transcript in SMP terms", () => {
  it("one line per request: the client's note, the decoded request frame, the reply bytes", async () => {
    const { client } = await board(app("1.0.0", 9000));
    await client.list();
    await client.upload(app("1.1.0", 600));
    const lines = client.transcript
      .renderAnnotated()
      .split("\n")
      .filter(Boolean)
      .map((l) => l.replace(/^ *[\d.]+ ms /, ""));
    expect(lines[0]).to.match(
      /^image list: seq 0 → read group 1 id 0 seq 0, 1 B body → .* → reply seq 0: ok$/,
    );
    expect(lines[1]).to.match(/^image upload off 0: seq 1 → write group 1 id 1 seq 1, \d+ B body → /);
    // The list, then one line per upload request.
    expect(lines.length).to.be.above(2);
    for (const l of lines.slice(1))
      expect(l).to.match(/^image upload off \d+: seq \d+ → write group 1 id 1 /);
  });

  it("counts bytes that hold no whole frame, and names a read that timed out", () => {
    expect(annotateSmp({ t: 0, dir: "tx", bytes: Uint8Array.of(0x06, 0x09, 0x41) })?.text).to.equal(
      "3 bytes (no whole frame)",
    );
    expect(
      annotateSmp({ t: 0, dir: "rx", bytes: new Uint8Array(0), note: "timeout after 2500 ms, wanted 1" })
        ?.text,
    ).to.equal("nothing (timeout after 2500 ms, wanted 1)");
  });
});
