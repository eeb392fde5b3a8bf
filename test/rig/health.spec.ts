/**
 * `hil rigs --check` on a lab rack made of fakes: uhubctl on PATH, a sysfs-shaped USB
 * directory, a by-id directory, and an emulated TKey on a pty to identify. A dead hub and a board that does not enumerate are reported
 * as infrastructure failures with what was seen; the good board passes; exit code 1.
 * A quarantined board's tests skip with the finding.
 */
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { expect } from "chai";
import { execa } from "execa";
import { type EmulatorProcess, startEmulator } from "../../harness/expose/emulator-process.js";
import { acquireLease } from "../../harness/lab/lease.js";
import { checkBoard, recheckInfrastructure } from "../../harness/rig/health.js";
import { IDENTIFIERS } from "../../harness/rig/identify.js";
import { parseRigFile } from "../../harness/rig/load.js";
import { buildRig } from "../../harness/rig/rig.js";
import { ScpiSupply } from "./lab-emulators.js";

const ROOT = join(import.meta.dirname, "..", "..");
const HIL = join(ROOT, "bin", "hil.js");
const FAKE_BIN = join(ROOT, "test", "fixtures", "bin");

const RIG = `name: bench
timeouts: { enumerateMs: 300, settleMs: 10, powerOffMs: 50, commandMs: 3000 }
boards:
  - id: tkey-ok
    family: tkey
    capabilities: []
    usb: { vid: "1207", pid: "8887", port: 1-1.1 }
    serial: { byId: /dev/serial/by-id/usb-Tillitis_MTA1-USB-V1_68de5d27-if00 }
    power: { backend: uhubctl, location: 1-1, port: 1 }
  - id: tkey-dead-hub
    family: tkey
    capabilities: []
    usb: { vid: "1207", pid: "8887", port: 1-9.1 }
    power: { backend: uhubctl, location: 1-9, port: 1 }
  - id: tkey-gone
    family: tkey
    capabilities: []
    usb: { vid: "1207", pid: "8887", port: 1-1.2 }
    power: { backend: uhubctl, location: 1-1, port: 2 }
  - id: tkey-busy
    family: tkey
    capabilities: []
    usb: { vid: "1207", pid: "8887", port: 1-1.3 }
    power: { backend: uhubctl, location: 1-1, port: 3 }
`;

describe("rig/health: hil rigs --check", function () {
  this.timeout(60_000);
  let tmp: string;
  let env: Record<string, string>;
  let tkey: EmulatorProcess | undefined;
  before(async function () {
    // The good board is an emulated TKey on a real pty (socat), so it can be identified.
    if ((await execa("which", ["socat"], { reject: false })).exitCode !== 0) this.skip();
    tmp = await mkdtemp(join(tmpdir(), "hil-health-"));
    const sys = join(tmp, "sys");
    const dev = join(sys, "1-1.1");
    await mkdir(dev, { recursive: true });
    for (const [name, value] of Object.entries({
      idVendor: "1207",
      idProduct: "8887",
      serial: "68de5d27",
      busnum: "1",
      devnum: "9",
      product: "MTA1-USB-V1",
    }))
      await writeFile(join(dev, name), `${value}\n`);
    await mkdir(join(tmp, "by-id"));
    tkey = await startEmulator("tkey", join(tmp, "by-id", "usb-Tillitis_MTA1-USB-V1_68de5d27-if00"), [], {
      log: false,
    });
    await writeFile(
      join(tmp, "hubs.json"),
      JSON.stringify({
        hubs: {
          "1-1": {
            description: "2109:2817 VIA Labs, Inc. USB2.0 Hub, USB 2.10, 4 ports, ppps",
            ports: {
              "1": { powered: true, device: "1207:8887 Tillitis MTA1-USB-V1 68de5d27" },
              "2": { powered: false },
              "3": { powered: true },
            },
          },
        },
      }),
    );
    await writeFile(join(tmp, "bench.yaml"), RIG);
    env = {
      PATH: `${FAKE_BIN}${delimiter}${process.env.PATH}`,
      FAKE_UHUBCTL_STATE: join(tmp, "hubs.json"),
      HIL_SYSFS_USB_DIR: sys,
      HIL_SERIAL_BY_ID_DIR: join(tmp, "by-id"),
      HIL_LEASE_DIR: join(tmp, "leases"),
      HIL_RIG: "",
    };
  });
  after(async () => {
    await tkey?.stop();
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  it("reports each board; infrastructure failures name what was seen; leased boards are left alone; exit 1", async () => {
    const lease = await acquireLease("tkey-busy", { dir: join(tmp, "leases"), owner: "nightly" });
    const r = await execa("node", [HIL, "rigs", "--rig", join(tmp, "bench.yaml"), "--check"], {
      reject: false,
      env,
    });
    await lease.release();
    expect(r.exitCode, r.stdout + r.stderr).to.equal(1);
    const out = r.stdout;
    expect(out).to.match(
      / {2}tkey-ok \(.*\): ok\n {6}ok {3}power: uhubctl: on\n {6}ok {3}usb: USB 1207:8887 serial 68de5d27 at port 1-1\.1 \(MTA1-USB-V1\)\n {6}ok {3}serial: .*usb-Tillitis_MTA1-USB-V1_68de5d27-if00\n {6}ok {3}identify: name tk1 mkdf, firmware \d+, udi [0-9a-f:]+\n/,
    );
    expect(out).to.match(
      / {2}tkey-dead-hub \(.*\): FAILED \[infrastructure\]\n {6}FAIL power: board tkey-dead-hub: power \(uhubctl\): uhubctl -l 1-9 -p 1 exited 1:\n *No compatible devices detected at location 1-9!/,
    );
    expect(out).to.match(
      / {2}tkey-gone \(.*\): FAILED \[infrastructure\]\n {6}ok {3}power: uhubctl: was off, switched on, now on\n {6}FAIL usb: board tkey-gone: USB 1207:8887 at port 1-1\.2 did not appear within 300 ms; on the bus: 1-1\.1 1207:8887 serial 68de5d27/,
    );
    expect(out).to.match(
      / {2}tkey-busy \(.*\): skipped\n {6}ok {3}lease: leased by nightly on .*: not checked/,
    );
    // Each finding points back at the rig file's line and field, as validation errors do.
    const rig = join(tmp, "bench.yaml");
    expect(out).to.match(
      new RegExp(
        `FAIL power: board tkey-dead-hub: .*\\n(.*\\n)*?.*\\(${rig.replace(/[.]/g, "\\.")}:14 boards\\[1\\]\\.power\\)\\n`,
      ),
    );
    expect(out).to.include(`serial 68de5d27 (MTA1-USB-V1) (${rig}:18 boards[2].usb)\n`);
    expect(out).to.match(/^1 ok, 2 failed \(infrastructure\), 1 skipped$/m);
  });

  it("--cycle power-cycles through the backend before locating", async () => {
    const rig = RIG.split("  - id: tkey-dead-hub")[0]!;
    await writeFile(join(tmp, "one.yaml"), rig);
    const r = await execa("node", [HIL, "rigs", "--rig", join(tmp, "one.yaml"), "--check", "--cycle"], {
      reject: false,
      env: { ...env, FAKE_UHUBCTL_LOG: join(tmp, "calls.log") },
    });
    expect(r.exitCode, r.stdout + r.stderr).to.equal(0);
    expect(r.stdout).to.include("power: uhubctl: was on, cycled, now on");
  });

  it("a bench supply is identified (*IDN?) and switched on through SCPI on a pty", async function () {
    if ((await execa("which", ["socat"], { reject: false })).exitCode !== 0) this.skip();
    const psu = await new ScpiSupply(2).serve(join(tmp, "by-id", "usb-EMU_PSU_SN000042-if00"));
    try {
      await writeFile(
        join(tmp, "psu.yaml"),
        [
          "name: psu-bench",
          "timeouts: { enumerateMs: 300, settleMs: 10, powerOffMs: 50, commandMs: 3000 }",
          "boards:",
          "  - id: wb55-psu",
          "    family: stm32wb55",
          "    capabilities: [power-cut]",
          "    serial: { byId: /dev/serial/by-id/usb-Tillitis_MTA1-USB-V1_68de5d27-if00 }",
          "    power: { backend: scpi, usbSerial: SN000042, channel: 2, voltage: 3.3 }",
          "",
        ].join("\n"),
      );
      const r = await execa("node", [HIL, "rigs", "--rig", join(tmp, "psu.yaml"), "--check"], {
        reject: false,
        env,
      });
      expect(r.exitCode, r.stdout + r.stderr).to.equal(0);
      expect(r.stdout).to.include("power: scpi: was off, switched on, now on");
      expect(r.stdout).to.include("power identify: EMULATED,PSU-2CH,SN000042,1.0");
      expect(r.stdout).to.include("identify: not checked: board wb55-psu names neither usb-dfu nor usart");
      expect(psu.outputs[1]).to.deep.equal({ on: true, volt: 3.3, curr: 0 });
    } finally {
      await psu.close();
    }
  });

  it("a quarantined board's tests skip with the health check's finding", async () => {
    const fixture = join(import.meta.dirname, "fixtures", "lease-suite.fixture.ts");
    const r = await execa("npx", ["mocha", "--no-config", "--node-option", "import=tsx", fixture], {
      reject: false,
      env: {
        HIL_LEASE_DIR: join(tmp, "leases"),
        BOARD: "tkey-gone",
        HIL_QUARANTINE: JSON.stringify({ "tkey-gone": "usb: did not appear" }),
      },
    });
    expect(r.stdout, r.stderr).not.to.include("TEST RAN");
    expect(r.stdout).to.match(/1 pending/);
    expect(r.stderr).to.include(
      "board tkey-gone is quarantined for this run: its health check failed (usb: did not appear)",
    );
  });
});

describe("rig/health: an STM32 board named by its ROM's DFU identity", () => {
  const saved = process.env.HIL_SYSFS_USB_DIR;
  let tmp: string;
  before(async () => {
    // Nothing on the bus: the board runs its application, so its ROM (0483:df11) is not enumerated.
    tmp = await mkdtemp(join(tmpdir(), "hil-health-rom-"));
    await mkdir(join(tmp, "sys"));
    process.env.HIL_SYSFS_USB_DIR = join(tmp, "sys");
  });
  after(async () => {
    if (saved === undefined) delete process.env.HIL_SYSFS_USB_DIR;
    else process.env.HIL_SYSFS_USB_DIR = saved;
    await rm(tmp, { recursive: true, force: true });
  });

  const board = (usb: string) =>
    buildRig(
      parseRigFile(
        [
          "name: dfu-bench",
          "timeouts: { enumerateMs: 100, settleMs: 10, commandMs: 2000 }",
          "boards:",
          `  - { id: l432-lab, family: stm32l432, capabilities: [usb-dfu], usb: ${usb}, power: { backend: command, on: "true", off: "true", state: "echo on" } }`,
          "",
        ].join("\n"),
        "dfu-bench.yaml",
      ),
      "dfu-bench.yaml",
    ).boards[0]!;
  // identify enters the ROM itself and finds it there; here it stands for that.
  const identifiers = { ...IDENTIFIERS, stm32l432: async () => ({ bootloader: "0x91" }) };

  it("is not waited for on the bus before identify enters the ROM, nor by a re-check; another identity is", async () => {
    const rom = board('{ vid: "0483", pid: "df11", port: 1-2.3 }');
    const health = await checkBoard(rom, { identifiers, lease: { dir: join(tmp, "leases") } });
    expect(health.status, JSON.stringify(health.steps)).to.equal("ok");
    expect(health.steps.find((s) => s.name === "usb")).to.deep.equal({
      name: "usb",
      ok: true,
      detail: "not checked: 0483:df11 is the ROM bootloader's, present only in it",
    });
    expect((await recheckInfrastructure(rom)).status).to.equal("ok");

    const app = board('{ vid: "20a0", pid: "42d4", port: 1-2.3 }');
    const missing = await recheckInfrastructure(app);
    expect(missing.status).to.equal("failed");
    expect(missing.steps.find((s) => s.name === "usb")?.detail).to.match(
      /USB 20a0:42d4 at port 1-2\.3 did not appear/,
    );
  });
});
