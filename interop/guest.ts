/**
 * Runs one interop guest: Debian's kernel + the busybox initramfs (interop/build-guest.sh)
 * plus a per-run archive with /run.sh and its files, under QEMU TCG with user networking
 * (the guest reaches the host's 127.0.0.1 as 10.0.2.2; nothing else is exposed). The serial
 * console is the guest's only output; it is written to a log file as it comes, and the run
 * is killed at its timeout.
 *
 * /run.sh reports with markers the host parses: `HIL-STEP-BEGIN name` … `HIL-STEP-END name
 * rc=N` around each step, and `HIL-RUN-EXIT N` when it is done (guest-init.sh prints it).
 */
import { createWriteStream } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { gzipSync } from "node:zlib";
import { execa } from "execa";

export const ROOT = join(import.meta.dirname, "..");
export const GUEST_DIR = join(ROOT, ".tmp", "interop", "guest");

export interface GuestStep {
  name: string;
  rc: number;
  output: string;
}

export interface GuestRun {
  /** Whole serial console (also in `logFile`). */
  console: string;
  logFile: string;
  steps: Map<string, GuestStep>;
  exit: number | undefined;
  wallMs: number;
  timedOut: boolean;
}

/**
 * Why QEMU cannot run here, or undefined if it can: the suite is skipped with this reason.
 * Builds (or reuses) the guest image as a side effect.
 */
export async function guestUnavailable(): Promise<string | undefined> {
  if (process.platform !== "linux" || process.arch !== "x64")
    return `needs linux/x64, this is ${process.platform}/${process.arch}`;
  const build = await execa(join(ROOT, "interop", "build-guest.sh"), [GUEST_DIR], {
    reject: false,
    all: true,
    timeout: 600_000,
  });
  if (build.exitCode !== 0)
    return `the guest image could not be built: ${String(build.all).trim().split("\n").slice(-3).join(" / ")}`;
  const qemu = await execa("qemu-system-x86_64", ["--version"], { reject: false });
  if (qemu.exitCode !== 0) return "qemu-system-x86_64 does not run";
  return undefined;
}

/** Packs `files` (path in the guest → bytes) plus /run.sh into a newc archive with busybox. */
async function runArchive(script: string, files: Record<string, Uint8Array>): Promise<Uint8Array> {
  const dir = await mkdtemp(join(tmpdir(), "hil-guest-"));
  try {
    const names = ["run.sh"];
    await writeFile(join(dir, "run.sh"), script);
    for (const [path, bytes] of Object.entries(files)) {
      const rel = path.replace(/^\/+/, "");
      // Directories go into the archive before their files, or the kernel cannot create them.
      for (let d = dirname(rel); d !== "."; d = dirname(d)) if (!names.includes(d)) names.splice(1, 0, d);
      await mkdir(dirname(join(dir, rel)), { recursive: true });
      await writeFile(join(dir, rel), bytes);
      names.push(rel);
    }
    const cpio = await execa("/bin/busybox", ["cpio", "-o", "-H", "newc"], {
      cwd: dir,
      input: `${names.join("\n")}\n`,
      encoding: "buffer",
      stderr: "ignore",
    });
    // Compressed like the base archive: the kernel unpacks concatenated gzip members in order.
    return new Uint8Array(gzipSync(cpio.stdout, { level: 1 }));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export async function runGuest(opts: {
  script: string;
  files?: Record<string, Uint8Array>;
  logFile: string;
  timeoutMs: number;
  memoryMb?: number;
  /** Extra QEMU arguments (e.g. a 9p share). */
  qemuArgs?: string[];
}): Promise<GuestRun> {
  const base = await readFile(join(GUEST_DIR, "initrd.img"));
  // Concatenated initramfs archives are unpacked in order: the per-run one adds /run.sh.
  const initrd = join(dirname(opts.logFile), `initrd-${process.pid}-${Date.now()}.img`);
  await mkdir(dirname(opts.logFile), { recursive: true });
  await writeFile(initrd, Buffer.concat([base, await runArchive(opts.script, opts.files ?? {})]));
  const log = createWriteStream(opts.logFile);
  const t0 = performance.now();
  let text = "";
  try {
    const qemu = execa(
      "qemu-system-x86_64",
      [
        "-accel",
        "tcg",
        "-m",
        String(opts.memoryMb ?? 512),
        "-smp",
        "1",
        "-nographic",
        "-no-reboot",
        "-monitor",
        "none",
        "-serial",
        "stdio",
        "-kernel",
        join(GUEST_DIR, "vmlinuz"),
        "-initrd",
        initrd,
        "-append",
        "console=ttyS0 quiet panic=-1 loglevel=4",
        "-netdev",
        "user,id=n0",
        "-device",
        "e1000,netdev=n0",
        ...(opts.qemuArgs ?? []),
      ],
      {
        reject: false,
        buffer: false,
        stdin: "ignore",
        stdout: "pipe",
        stderr: "pipe",
        timeout: opts.timeoutMs,
        killSignal: "SIGKILL",
      },
    );
    qemu.stdout?.on("data", (c: Buffer) => {
      text += c.toString("latin1");
      log.write(c);
    });
    qemu.stderr?.on("data", (c: Buffer) => {
      text += c.toString("latin1");
      log.write(c);
    });
    const r = await qemu;
    const timedOut = r.timedOut === true;
    if (timedOut) log.write(`\n[host] guest killed after ${opts.timeoutMs} ms\n`);
    return {
      console: text,
      logFile: opts.logFile,
      steps: parseSteps(text),
      exit: parseExit(text),
      wallMs: performance.now() - t0,
      timedOut,
    };
  } finally {
    await new Promise((r) => log.end(r));
    await rm(initrd, { force: true });
  }
}

export function parseSteps(text: string): Map<string, GuestStep> {
  const steps = new Map<string, GuestStep>();
  const clean = text.replace(/\r/g, "");
  const re = /^HIL-STEP-BEGIN (\S+)\n([\s\S]*?)^HIL-STEP-END \1 rc=(\d+)$/gm;
  for (let m = re.exec(clean); m; m = re.exec(clean))
    steps.set(m[1]!, { name: m[1]!, output: m[2]!, rc: Number(m[3]) });
  return steps;
}

function parseExit(text: string): number | undefined {
  const m = /^HIL-RUN-EXIT (\d+)/m.exec(text.replace(/\r/g, ""));
  return m ? Number(m[1]) : undefined;
}

/** Shell helpers for /run.sh: `step NAME CMD...` with markers; attach/wait with deadlines. */
export const RUN_PRELUDE = `
step() { name=$1; shift; echo "HIL-STEP-BEGIN $name"; "$@" 2>&1; rc=$?; echo "HIL-STEP-END $name rc=$rc"; return 0; }
# usbip attach, retried while the server re-enumerates the board (import refused meanwhile); ~15 s deadline.
attach() {
  i=0
  while [ $i -lt 30 ]; do
    usbip --tcp-port "$HIL_PORT" attach -r 10.0.2.2 -b 1-1 2>&1 && return 0
    i=$((i + 1)); sleep 0.2
  done
  return 1
}
# Waits (10 s) until a USB device VID:PID is on the guest's bus.
wait_usb() {
  i=0
  while [ $i -lt 100 ]; do
    for d in /sys/bus/usb/devices/*; do
      [ -f "$d/idVendor" ] || continue
      [ "$(cat $d/idVendor):$(cat $d/idProduct)" = "$1" ] && { echo "found $1 at $(basename $d) devnum $(cat $d/devnum)"; return 0; }
    done
    i=$((i + 1)); sleep 0.1
  done
  echo "no $1 on the bus"; return 1
}
# Waits (10 s) until no device VID:PID is left on the bus.
wait_gone() {
  i=0
  while [ $i -lt 100 ]; do
    grep -qs "$2" /sys/bus/usb/devices/*/idProduct || { echo "$1:$2 gone"; return 0; }
    i=$((i + 1)); sleep 0.1
  done
  echo "$1:$2 still there"; return 1
}
`;

/**
 * QEMU arguments sharing the host's root read-only over 9p (tag `hostroot`), and the guest
 * commands that mount it at /mnt/host with the guest's proc, sys, dev and a writable /tmp
 * inside, so `chroot /mnt/host node …` runs the host's Node and this project on the guest
 * kernel (its usbfs, its vhci-hcd).
 */
export const HOST_SHARE_QEMU_ARGS = [
  "-virtfs",
  "local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap",
];

/**
 * Writable scratch inside the chroot: a tmpfs over the host's /tmp, unless the project
 * itself lives under /tmp (a CI clone may), which the tmpfs would hide; then over /mnt.
 */
export function hostShareScratch(projectRoot: string): string {
  return projectRoot === "/tmp" || projectRoot.startsWith("/tmp/") ? "/mnt" : "/tmp";
}

export function hostShareMount(scratch: string): string {
  return `
for m in virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci 9pnet 9pnet_virtio netfs fscache 9p; do
  insmod /lib/modules/$m.ko || echo "insmod $m failed"
done
mkdir -p /mnt/host
mount -t 9p -o trans=virtio,version=9p2000.L,ro,msize=512000,cache=loose hostroot /mnt/host
mount --bind /proc /mnt/host/proc
mount --bind /sys /mnt/host/sys
mount --bind /dev /mnt/host/dev
mount -t tmpfs scratch /mnt/host${scratch}
`;
}

/**
 * Bundles a TypeScript entry for the guest into one ESM file under .tmp/interop (the `usb`
 * package stays external: it is native), so the guest's Node loads one file over 9p instead
 * of transpiling the project under TCG. Uses the esbuild that tsx brings; returns undefined
 * when it is not there (the caller then runs the entry through tsx).
 */
export async function bundleForGuest(entry: string, name: string): Promise<string | undefined> {
  let esbuild: typeof import("esbuild");
  try {
    esbuild = await import("esbuild");
  } catch {
    return undefined;
  }
  const outfile = join(ROOT, ".tmp", "interop", `${name}.mjs`);
  await esbuild.build({
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    external: ["usb"],
    // Bundled CommonJS dependencies call require(): give the ESM bundle one.
    banner: {
      js: 'import { createRequire as __cr } from "node:module"; const require = __cr(import.meta.url);',
    },
    logLevel: "error",
  });
  return outfile;
}
