/**
 * A lab board's emulated twin in the rig: `twin:` in the rig file or `hil run --twin`, built
 * right after its board, looking to suites as the board does, with the personality its
 * identity picks.
 */

import { join } from "node:path";
import { expect } from "chai";
import type { Nrf52840McubootDevice } from "../../harness/devices/nrf52840-mcuboot/device.js";
import type { Stm32Device } from "../../harness/devices/stm32/device.js";
import { formatVersion } from "../../harness/protocol/fus/index.js";
import { checkRig } from "../../harness/rig/health.js";
import { parseRigFile } from "../../harness/rig/load.js";
import { buildRig } from "../../harness/rig/rig.js";
import { twinPersonality } from "../../harness/rig/twin.js";

const rigText = (twin?: string) =>
  [
    "name: lab",
    "boards:",
    "  - id: l432-a",
    "    family: stm32l432",
    "    capabilities: [usart, power-cut]",
    "    serial: { byId: /dev/serial/by-id/usb-ST-if02 }",
    "    power: { backend: command, cutsPower: true, off: 'true', on: 'true' }",
    ...(twin === undefined ? [] : [`    twin: ${twin}`]),
    "  - id: tkey-a",
    "    family: tkey",
    "    capabilities: [power-cut]",
    "    serial: { byId: /dev/serial/by-id/usb-Tillitis-if00 }",
    "    power: { backend: command, cutsPower: true, off: 'true', on: 'true' }",
    "  - id: sim",
    "    family: sim-nor",
    "    capabilities: [power-cut]",
    "    emulated: {}",
    "",
  ].join("\n");

describe("rig: a lab board's emulated twin", () => {
  it("twin: true puts the twin right after its board, with the board's face to suites", () => {
    const rig = buildRig(parseRigFile(rigText("true"), "lab.yaml"), "lab.yaml", { seed: 7 });
    expect(rig.boards.map((b) => b.id)).to.deep.equal(["l432-a", "l432-a-twin", "tkey-a", "sim"]);
    const [lab, twin] = rig.boards;
    expect(twin).to.include({ family: "stm32l432", emulated: false, twinOf: "l432-a" });
    expect(twin).to.not.have.property("inspect");
    expect([...twin!.capabilities]).to.deep.equal([...lab!.capabilities]);
    expect(twin!.emulator?.family).to.equal("stm32l432");
    expect(twin!.locator).to.equal(undefined);
    // The run's seed, mixed with the lab board's id: the same scenario replays on the twin.
    expect(twin!.seed).to.not.equal(0);
    // The lab board has the same seed, so a suite's random choices (its images) are alike.
    expect(lab!.seed).to.equal(twin!.seed);
    expect(
      buildRig(parseRigFile(rigText("true"), "lab.yaml"), "lab.yaml", { seed: 7 }).boards[1]!.seed,
    ).to.equal(twin!.seed);
  });

  it("hil run --twin twins every lab board; no twin: none", () => {
    const file = parseRigFile(rigText(), "lab.yaml");
    expect(buildRig(file, "lab.yaml").boards.map((b) => b.id)).to.deep.equal(["l432-a", "tkey-a", "sim"]);
    expect(buildRig(file, "lab.yaml", { twin: true }).boards.map((b) => b.id)).to.deep.equal([
      "l432-a",
      "l432-a-twin",
      "tkey-a",
      "tkey-a-twin",
      "sim",
    ]);
  });

  it("the rig file's twin options reach the emulator; the identity picks a TKey's profile", () => {
    const file = parseRigFile(rigText("{ options: { usartDoubleAck: true } }"), "lab.yaml");
    const twin = buildRig(file, "lab.yaml").boards[1]!;
    expect(twin.emulator?.options).to.deep.include({ usartDoubleAck: true });
    expect(twin.info.twin).to.equal("option usartDoubleAck from the rig file");
    const tkeys = buildRig(file, "lab.yaml", { twin: true, identities: { "tkey-a": { firmware: "6" } } });
    const tkeyTwin = tkeys.boards.find((b) => b.id === "tkey-a-twin")!;
    expect(tkeyTwin.info.twin).to.equal("tkey profile castor from firmware 6");
    expect(twinPersonality("tkey", { firmware: "5" })).to.deep.include({ profile: "bellatrix" });
    expect(twinPersonality("tkey", { firmware: "5" }, { profile: "qemu" })).to.deep.include({
      profile: "qemu",
    });
    expect(twinPersonality("stm32l432", { bootloader: "0x91" })).to.deep.equal({
      profile: undefined,
      options: {},
      why: [],
    });
  });

  it("a lab board in overwrite-only has an overwrite-only twin: the mode its bootloader info gave", async () => {
    // The lab board's stand-in: an emulated board built overwrite-only with downgrade
    // prevention, identified through SMP as the health check does.
    const root = join(import.meta.dirname, "..", "..");
    const bench = [
      "name: bench",
      "boards:",
      "  - id: nrf-lab",
      "    family: nrf52840",
      "    capabilities: [usart]",
      "    emulated:",
      "      options:",
      "        key: fixtures/mcuboot/test-only-ecdsa-p256.pub.pem",
      "        image: fixtures/mcuboot/test-only-app-1.0.0.signed.bin",
      "        mode: overwrite-only",
      "        downgradePrevention: true",
      "",
    ].join("\n");
    const path = join(root, "bench.yaml");
    const [health] = await checkRig(buildRig(parseRigFile(bench, path), path).boards);
    const identity = health!.identified!;
    expect(identity).to.include({ "mcuboot mode": "overwrite-only", "no-downgrade": "yes" });
    const lab = [
      "name: lab",
      "boards:",
      "  - id: nrf-a",
      "    family: nrf52840",
      "    capabilities: [usart]",
      "    serial: { byId: /dev/serial/by-id/usb-SEGGER_J-Link_000683759358-if00 }",
      "    power: { backend: command, cutsPower: true, off: 'true', on: 'true' }",
      "    twin: true",
      "",
    ].join("\n");
    const rig = buildRig(parseRigFile(lab, "lab.yaml"), "lab.yaml", { identities: { "nrf-a": identity } });
    const twin = rig.boards.find((b) => b.id === "nrf-a-twin")!;
    const device = twin.emulator as Nrf52840McubootDevice;
    expect(device.mode).to.equal("overwrite-only");
    expect(device.options).to.include({ mode: "overwrite-only", downgradePrevention: true });
    expect(twin.info.twin).to.equal(
      "mcuboot mode overwrite-only from the board's bootloader info; downgrade prevention from the board's bootloader info",
    );
    // Without the identity the twin keeps the emulator's default.
    const plain = buildRig(parseRigFile(lab, "lab.yaml"), "lab.yaml").boards[1]!;
    expect((plain.emulator as Nrf52840McubootDevice).mode).to.equal("move");
  });

  it("MCUboot modes: each the emulator has is picked; one it lacks picks nothing and says so; the rig file wins", () => {
    for (const mode of ["swap-using-move", "swap-using-scratch", "overwrite-only"])
      expect(twinPersonality("nrf52840", { "mcuboot mode": mode }).options, mode).to.deep.equal({ mode });
    expect(twinPersonality("nrf52840", { "mcuboot mode": "direct-xip" })).to.deep.equal({
      profile: undefined,
      options: {},
      why: ["mcuboot mode direct-xip: the emulator has no such mode, the twin keeps its default"],
    });
    expect(
      twinPersonality(
        "nrf52840",
        { "mcuboot mode": "overwrite-only", "no-downgrade": "yes" },
        { options: { mode: "swap-using-scratch", downgradePrevention: false } },
      ),
    ).to.deep.equal({
      profile: undefined,
      options: { mode: "swap-using-scratch", downgradePrevention: false },
      why: ["option mode from the rig file", "option downgradePrevention from the rig file"],
    });
    // Another family's identity with the same words picks nothing.
    expect(twinPersonality("tkey", { "mcuboot mode": "overwrite-only" }).options).to.deep.equal({});
  });

  it("a WB55 lab board with FUS 1.1.1 has a twin with FUS 1.1.1: the version its device information table gave", async () => {
    const bench = [
      "name: bench",
      "boards:",
      "  - { id: wb55-lab, family: stm32wb55, capabilities: [usart, fus], emulated: { seed: 3, options: { fusVersion: '1.1.1' } } }",
      "",
    ].join("\n");
    const [health] = await checkRig(buildRig(parseRigFile(bench, "bench.yaml"), "bench.yaml").boards);
    expect(health!.status, JSON.stringify(health!.steps)).to.equal("ok");
    const identity = health!.identified!;
    expect(identity).to.include({ fus: "1.1.1" });
    const lab = [
      "name: lab",
      "boards:",
      "  - id: wb55-a",
      "    family: stm32wb55",
      "    capabilities: [usart, fus]",
      "    serial: { byId: /dev/serial/by-id/usb-ST-wb55-if02 }",
      "    power: { backend: command, cutsPower: true, off: 'true', on: 'true' }",
      "    twin: true",
      "",
    ].join("\n");
    const rig = buildRig(parseRigFile(lab, "lab.yaml"), "lab.yaml", { identities: { "wb55-a": identity } });
    const twin = rig.boards.find((b) => b.id === "wb55-a-twin")!;
    expect(formatVersion((twin.emulator as Stm32Device).fus!.nv.fusVersion)).to.equal("1.1.1");
    expect(twin.info.twin).to.equal("fus 1.1.1 from the board's device information table");
    // The rig file's own fusVersion wins; an L432 has no FUS to pick.
    expect(
      twinPersonality("stm32wb55", { fus: "1.1.1" }, { options: { fusVersion: "1.2.0" } }).options,
    ).to.deep.equal({ fusVersion: "1.2.0" });
    expect(twinPersonality("stm32l432", { fus: "1.1.1" }).options).to.deep.equal({});
  });

  it("an STM32's bootloader ID picks nothing (one AN2606 bootloader per family); another ID or protocol is noted", () => {
    expect(twinPersonality("stm32l432", { bootloader: "0x91", "usart-protocol": "3.1" })).to.deep.equal({
      profile: undefined,
      options: {},
      why: [],
    });
    expect(twinPersonality("stm32wb55", { bootloader: "0xd5", fus: "1.2.0" }).why).to.deep.equal([
      "fus 1.2.0 from the board's device information table",
    ]);
    expect(twinPersonality("stm32l432", { bootloader: "0x92", "usart-protocol": "3.3" })).to.deep.equal({
      profile: undefined,
      options: {},
      why: [
        "bootloader 0x92: AN2606 lists 0x91 (V9.1) for stm32l432, no emulator personality for it; the twin stays V9.1",
        "usart-protocol 3.3: the emulator's stm32l432 bootloader speaks 3.1; the twin stays 3.1",
      ],
    });
    expect(twinPersonality("stm32wb55", { bootloader: "0x91" }).why).to.deep.equal([
      "bootloader 0x91: AN2606 lists 0xd5 (V13.5) for stm32wb55, no emulator personality for it; the twin stays V13.5",
    ]);
  });

  it("twin on an emulated board is refused, naming the field", () => {
    const text = rigText().replace("    emulated: {}", "    emulated: {}\n    twin: true");
    expect(() => parseRigFile(text, "lab.yaml")).to.throw(/boards\[2\]\.twin.*twin is for lab boards/s);
  });
});
