import { expect } from "chai";
import { TKeyClient } from "../../../harness/clients/tkey/index.js";
import { TKeyDevice } from "../../../harness/devices/tkey/device.js";
import { VirtualClock } from "../../../harness/sim/virtual-clock.js";

describe("protocol/tkey: transcript in firmware-protocol terms", () => {
  it("reads a load as commands with their responses chained, status named", async () => {
    const clock = new VirtualClock();
    const dev = new TKeyDevice({ clock, seed: 3 });
    await dev.power.on();
    const client = new TKeyClient(dev.port("tkey"), { clock });
    await client.getNameVersion();
    await client.loadApp(new Uint8Array(200).fill(0x13));
    const lines = client.transcript
      .renderAnnotated()
      .split("\n")
      .filter(Boolean)
      .map((l) => l.replace(/^ *[\d.]+ ms /, ""));
    expect(lines).to.deep.equal([
      "FW_CMD_NAME_VERSION (fw, 1 B) → header (fw, 32 B) → FW_RSP_NAME_VERSION",
      "FW_CMD_LOAD_APP (fw, 128 B) → header (fw, 4 B) → FW_RSP_LOAD_APP OK",
      "FW_CMD_LOAD_APP_DATA (fw, 128 B) → header (fw, 4 B) → FW_RSP_LOAD_APP_DATA OK",
      "FW_CMD_LOAD_APP_DATA (fw, 128 B) → header (fw, 128 B) → FW_RSP_LOAD_APP_DATA_READY OK",
    ]);
  });
});
