import { loadRigFile, resolveRigPath } from "../rig/load.js";

/** `hil rigs`: validate the rig file and list its boards. */
export async function runRigs(opts: { rig?: string | undefined }): Promise<number> {
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
            b.serial ? `serial ${b.serial.byId ?? `usb-serial ${b.serial.usbSerial}`}` : "",
          ]
            .filter(Boolean)
            .join(", ");
    console.log(
      `  ${b.id.padEnd(16)} ${b.family.padEnd(10)} ${reach}; power ${b.power.backend}, boot ${b.boot.backend}, reset ${b.reset.backend}; capabilities: ${b.capabilities.join(", ") || "none"}`,
    );
  }
  return 0;
}

function hex4(n: number): string {
  return n.toString(16).padStart(4, "0");
}
