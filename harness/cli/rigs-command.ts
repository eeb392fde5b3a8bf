import { checkRig, formatHealth } from "../rig/health.js";
import { leaseConfigOf } from "../rig/lease-config.js";
import { loadRigFile, resolveRigPath } from "../rig/load.js";
import { buildRig } from "../rig/rig.js";

/**
 * `hil rigs`: validate the rig file and list its boards. `--check`: health-check every
 * board (power backend answers, board found by identity, board identified through its
 * protocol, harness/rig/identify.ts; `--cycle` power-cycles first); exit 1 when a board
 * fails, as an infrastructure problem.
 */
export async function runRigs(opts: {
  rig?: string | undefined;
  check?: boolean | undefined;
  cycle?: boolean | undefined;
}): Promise<number> {
  const path = resolveRigPath(opts.rig);
  const rig = await loadRigFile(path);
  console.log(`rig '${rig.name}' (${path}): ${rig.boards.length} board${rig.boards.length === 1 ? "" : "s"}`);
  for (const b of rig.boards) {
    const reach =
      b.kind === "emulated"
        ? `emulated${b.emulated.profile ? ` profile ${b.emulated.profile}` : ""}`
        : [
            b.usb
              ? `usb ${hex4(b.usb.vid)}:${hex4(b.usb.pid)}${b.usb.serial ? ` serial ${b.usb.serial}` : ""}`
              : "",
            b.usbip ? `usbip ${b.usbip.host}:${b.usbip.port} busid ${b.usbip.busid}` : "",
            b.serial ? `serial ${b.serial.byId ?? `usb-serial ${b.serial.usbSerial}`}` : "",
          ]
            .filter(Boolean)
            .join(", ");
    console.log(
      `  ${b.id.padEnd(16)} ${b.family.padEnd(10)} ${reach}; power ${b.power.backend}, boot ${b.boot.backend}, reset ${b.reset.backend}; capabilities: ${b.capabilities.join(", ") || "none"}`,
    );
  }
  if (!opts.check) return 0;
  console.log(`health check${opts.cycle ? " (with power cycle)" : ""}:`);
  const results = await checkRig(buildRig(rig, path).boards, {
    cycle: opts.cycle === true,
    leases: leaseConfigOf(rig),
  });
  for (const r of results) console.log(formatHealth(r));
  const failed = results.filter((r) => r.status === "failed");
  console.log(
    `${results.filter((r) => r.status === "ok").length} ok, ${failed.length} failed (infrastructure), ${results.filter((r) => r.status === "skipped").length} skipped`,
  );
  return failed.length > 0 ? 1 : 0;
}

function hex4(n: number): string {
  return n.toString(16).padStart(4, "0");
}
