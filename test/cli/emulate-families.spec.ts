/**
 * `hil emulate` takes the rig family as the board's name (stm32l432, stm32wb55, tkey,
 * nrf52840), and the profile names it took before as aliases.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import { execa } from "execa";
import { runEmulate } from "../../harness/cli/emulate-command.js";
import {
  EMULATE_FAMILIES,
  emulateFamily,
  emulateNames,
  FAMILY_ALIASES,
  stm32ProfileOf,
} from "../../harness/cli/emulate-families.js";
import { PROFILES } from "../../harness/devices/stm32/profiles.js";
import { startEmulator } from "../../harness/expose/emulator-process.js";
import { FAMILIES } from "../../harness/rig/board.js";

const HIL = join(import.meta.dirname, "..", "..", "bin", "hil.js");

describe("hil emulate: board families", () => {
  it("names every servable board by its rig family, and maps each old name to one", () => {
    for (const f of EMULATE_FAMILIES) {
      expect(FAMILIES).to.include(f);
      expect(emulateFamily(f)).to.equal(f);
    }
    expect(emulateFamily("stm32l432kc")).to.equal("stm32l432");
    expect(emulateFamily("nrf52840-mcuboot")).to.equal("nrf52840");
    for (const name of [undefined, "", "sim-nor", "stm32l433", "STM32L432", "nrf52840dk-mcuboot"])
      expect(emulateFamily(name), String(name)).to.equal(undefined);
    for (const alias of Object.keys(FAMILY_ALIASES))
      expect(EMULATE_FAMILIES as readonly string[]).not.to.include(alias);
    expect(emulateNames()).to.equal(
      "stm32l432 (or stm32l432kc), stm32wb55, tkey, nrf52840 (or nrf52840-mcuboot)",
    );
  });

  it("runs each STM32 family on its chip profile", () => {
    expect(stm32ProfileOf("stm32l432")).to.equal("stm32l432kc");
    expect(stm32ProfileOf("stm32wb55")).to.equal("stm32wb55");
    for (const f of ["stm32l432", "stm32wb55"] as const)
      expect(PROFILES[stm32ProfileOf(f)].family).to.equal(f);
  });

  it("accepts a family or an alias, and refuses anything else listing both", async () => {
    const usage = (args: string[]) =>
      runEmulate({}, args).then(
        () => expect.fail("ran"),
        (e: Error) => `${e.name}: ${e.message}`,
      );
    for (const name of ["stm32l432", "stm32l432kc", "stm32wb55"])
      expect(await usage([name])).to.equal(
        "UsageError: emulate: --uart-pty PATH or --usbip [HOST:]PORT is required",
      );
    expect(await usage(["stm32l433"])).to.equal(
      `UsageError: emulate: unknown board family 'stm32l433' (known: ${emulateNames()})`,
    );
    expect(await usage([])).to.equal(`UsageError: emulate: expected one board family (${emulateNames()})`);
    expect(await usage(["tkey", "extra"])).to.match(/expected one board family/);
    expect(await runEmulate({ key: "k.pem" }, ["stm32wb55"]).catch((e: Error) => e.message)).to.equal(
      "emulate: --key is for nrf52840, not 'stm32wb55'",
    );
  });

  it("serves the family's chip: `hil emulate stm32wb55` answers with the WB55's product ID", async function () {
    if (spawnSync("which", ["socat"]).status !== 0) this.skip();
    const link = join(mkdtempSync(join(tmpdir(), "hil-emulate-family-")), "tty");
    const emu = await startEmulator("stm32wb55", link, [], { log: false });
    try {
      const r = await execa("node", [HIL, "usart", "info", "--port", link], { reject: false, all: true });
      expect(r.exitCode, r.all).to.equal(0);
      expect(r.stdout).to.match(/^PID 0x495,/m);
    } finally {
      await emu.stop();
    }
  });
});
