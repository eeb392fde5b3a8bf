/**
 * The FUS links' raw views of the AN5185 §7 mapping (the packets as the device sent them)
 * and FusClient.waitFor, on the emulated WB55.
 */
import { expect } from "chai";
import { DfuFusLink, FusClientError, UsartFusLink } from "../../../harness/clients/fus/index.js";
import { connectUsart } from "../../../harness/devices/stm32/usart/port.js";
import { DfuState, DfuStatus } from "../../../harness/protocol/dfu/index.js";
import { FusState, isNotRunning } from "../../../harness/protocol/fus/index.js";
import { fusBench } from "../../devices/stm32-fus/helpers.js";

describe("clients/fus links: raw AN5185 §7 packets", () => {
  it("USART: Get lists 0x50/0x51; special read GET_STATE packets; special write status packets", async () => {
    const { dev, client } = await fusBench("usart");
    const link = client.link as UsartFusLink;
    expect(link).to.be.instanceOf(UsartFusLink);
    expect(await link.bootloaderCommands()).to.include.members([0x50, 0x51]);
    const first = await link.getStatePackets();
    expect([...first!.data]).to.deep.equal([0x00, 0xff, 0xfe]);
    expect([...first!.status]).to.deep.equal([0x00]);
    expect(await link.getStatePackets(), "the second one reboots into FUS: no answer").to.equal(undefined);
    await link.reconnect(5000);
    expect([...(await link.getStatePackets())!.data]).to.deep.equal([0x00, 0x00, 0x00]);
    expect([...(await link.commandPacket(0x5a))!]).to.deep.equal([0x00]);
    const end = await client.waitFor("START_WS", isNotRunning);
    expect(isNotRunning(end)).to.equal(true);
    expect(dev.fus!.mode).to.equal("stack");
    expect(client.labels()).to.include("reset");
  });

  it("USART: close() closes the port the link was given (a lab tty stays locked while open)", async () => {
    const { dev, clock } = await fusBench("usart");
    const port = connectUsart(dev);
    const link = new UsartFusLink(port, clock);
    expect(await link.bootloaderCommands()).to.include.members([0x50, 0x51]);
    expect(port.closed).to.equal(false);
    await link.close();
    expect(port.closed).to.equal(true);
  });

  it("DFU: GET_STATE bytes at 0xFFFF0054; a command's GETSTATUS replies, dfuDNBUSY then dfuDNLOAD-IDLE or dfuERROR", async () => {
    const { dev, client } = await fusBench("usb-dfu", { factoryStack: false });
    const link = client.link as DfuFusLink;
    expect(link).to.be.instanceOf(DfuFusLink);
    expect([...(await link.getStateBytes())!]).to.deep.equal([0x00, 0x00]);
    const refused = await link.commandStatuses(0x5a);
    expect(refused!.map((r) => r.state)).to.deep.equal([DfuState.dfuDNBUSY, DfuState.dfuERROR]);
    expect(refused!.at(-1)!.status).to.equal(DfuStatus.errVENDOR);
    const accepted = await link.commandStatuses(0x53);
    expect(accepted!.map((r) => r.state)).to.deep.equal([DfuState.dfuDNBUSY, DfuState.dfuDNLOAD_IDLE]);
    const end = await client.waitFor("FW_UPGRADE", (s) => s.state === FusState.ERROR);
    expect([end.state, end.errorName]).to.deep.equal([0xff, "IMG_NOT_FOUND"]);
    expect(dev.fus!.mode).to.equal("fus");
  });

  it("waitFor throws the Table 11 error it was not told to wait for", async () => {
    const { client } = await fusBench("usb-dfu", { factoryStack: false });
    const link = client.link as DfuFusLink;
    await link.commandStatuses(0x53);
    const e = await client.waitFor("FW_UPGRADE", (s) => s.state === FusState.IDLE).catch((x: unknown) => x);
    expect(e).to.be.instanceOf(FusClientError);
    expect((e as FusClientError).fusError).to.equal("IMG_NOT_FOUND");
  });
});
