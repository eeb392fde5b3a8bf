/**
 * The rig file format: one YAML file per rack (`rigs/emulated.yaml`, `rigs/examples/*.yaml`).
 *
 * Every object is strict: an unknown key is an error, never ignored, so a typo such as
 * `chanel: 3` cannot silently leave a relay unconfigured. Cross-field rules (emulated vs
 * lab boards, capability rules) are checked per board once that board's fields are
 * well-formed; duplicate board ids are checked across the whole file.
 *
 * Parsing yields a normalized {@link RigFile}: boards carry `kind`, a `power`, `boot` and
 * `reset` spec each (defaults filled in) and complete `timeouts`.
 *
 * Messages for the loader's readable errors live in load.ts; the messages written here
 * are the ones specific to a rule (bare /dev/tty paths, capability rules, ...).
 */

import { z } from "zod";
import { parseStm32flashSequence } from "../lab/backends/stm32flash-sequence.js";
import { parseEndpoint } from "../transport/tcp-stream.js";
import { CAPABILITIES, type Capability, FAMILIES, type Family } from "./board.js";

// ---------------------------------------------------------------------------------------
// Scalars

const SLUG = /^[a-z0-9][a-z0-9-]*$/;
const SLUG_MESSAGE = "must be lowercase letters, digits and '-', starting with a letter or digit";

/** Board id: unique in the file; used in test titles, report labels and `--board` filters. */
export const BoardIdSchema = z.string().regex(SLUG, SLUG_MESSAGE);

const positiveInt = z.number().int().positive();
const nonEmpty = z.string().min(1, "must not be empty");

/**
 * USB vendor/product id as lsusb and udev print it: four hex digits, quoted (`"0483"`).
 * Parsed to a number. An unquoted YAML number is refused: YAML reads `0483` as the
 * decimal 483, so a number here is ambiguous.
 */
const UsbIdSchema = z
  .string({
    error: (iss) =>
      typeof iss.input === "number"
        ? `expected a quoted 4-digit hex string such as "0483", got the number ${iss.input} (YAML reads an unquoted 0483 as decimal 483)`
        : undefined,
  })
  .regex(/^[0-9a-fA-F]{4}$/, 'expected 4 hex digits such as "0483"')
  .transform((hex) => Number.parseInt(hex, 16));

const BY_ID_PREFIX = "/dev/serial/by-id/";

/** Why a path like /dev/ttyACM0 is refused; shared by every field that names a serial device. */
export function bareDevicePathMessage(path: string): string {
  return (
    `${JSON.stringify(path)} is a bare device path: its number changes when devices re-enumerate (after a reset, ` +
    `a power cycle or a replug), so it can name another board. Use a ${BY_ID_PREFIX}... link (byId) ` +
    "or the USB serial number (usbSerial)"
  );
}

/** A `/dev/serial/by-id/...` link: stable across re-enumeration, unlike /dev/ttyACMn. */
const ByIdSchema = z.string().superRefine((path, ctx) => {
  if (path.startsWith(BY_ID_PREFIX) && path.length > BY_ID_PREFIX.length) return;
  ctx.addIssue({
    code: "custom",
    message: path.startsWith("/dev/")
      ? bareDevicePathMessage(path)
      : `expected a ${BY_ID_PREFIX}... link, got ${JSON.stringify(path)}`,
  });
});

const baudRate = positiveInt;

/** Fields that find a serial device (the board's port, a relay board, a bench PSU) by identity. */
const serialLocatorShape = {
  /** `/dev/serial/by-id/usb-<vendor>_<product>_<serial>-if00`. */
  byId: ByIdSchema.optional(),
  /** USB serial number (udev ID_SERIAL_SHORT) of the USB device carrying the tty. */
  usbSerial: nonEmpty.optional(),
  baudRate: baudRate.optional(),
};

function needsLocator(
  value: { byId?: string | undefined; usbSerial?: string | undefined },
  ctx: z.RefinementCtx,
) {
  if (value.byId === undefined && value.usbSerial === undefined) {
    ctx.addIssue({ code: "custom", message: "needs byId or usbSerial to find the device" });
  }
}

// ---------------------------------------------------------------------------------------
// Board identity

/** Emulated board: the harness builds the device from harness/devices/. */
export const EmulatedSchema = z.strictObject({
  /** Device profile within the family (geometry, bootloader version, ...); the device's default when absent. */
  profile: nonEmpty.optional(),
  /** USB serial number / UDI the emulated device reports. */
  serial: nonEmpty.optional(),
  /** Seed of every random choice the emulator makes (torn writes, ...). */
  seed: z.number().int().nonnegative().optional(),
  /** Device-specific options, validated by the device factory. */
  options: z.record(z.string(), z.unknown()).optional(),
  /** A timing overlay from `hil calibrate` (relative to the rig file): virtual time as on that lab board. */
  calibration: nonEmpty.optional(),
});

/**
 * A lab board's emulated twin (`twin: true`, or the emulator's profile and options when the
 * board's identity cannot pick them): every scenario on the board runs again on it, and the
 * two transcripts are compared (harness/report/twin-compare.ts).
 */
export const TwinSchema = z.union([
  z.boolean(),
  z.strictObject({
    profile: nonEmpty.optional(),
    options: z.record(z.string(), z.unknown()).optional(),
  }),
]);

const USB_PORT_PATH = /^\d+-\d+(\.\d+)*$/;

/** A USB/IP server as `HOST:PORT` (`rack3:3240`, `[::1]:3240`). */
const UsbipServerSchema = z
  .string()
  .regex(
    /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):\d{1,5}$/,
    'expected the USB/IP server as HOST:PORT, such as "rack3:3240"',
  )
  .transform((text) => {
    const at = text.lastIndexOf(":");
    return { host: text.slice(0, at).replace(/^\[(.*)\]$/, "$1"), port: Number(text.slice(at + 1)) };
  })
  .refine((a) => a.port >= 1 && a.port <= 65535, "the port must be 1..65535");

/** Where a board's USB is served over USB/IP: the rack host's server and the device's bus id there. */
export interface UsbipLocation {
  readonly host: string;
  readonly port: number;
  readonly busid: string;
}

/**
 * A lab board's USB identity. `port` is the physical sysfs port path (`3-1.4`), stable across
 * re-enumeration. On another host: `usbip: "HOST:PORT"` and `busid` (as `usbip list -r HOST`
 * prints it), a stable name for the port there, which the harness imports in user space.
 */
export const UsbSchema = z
  .strictObject({
    vid: UsbIdSchema.optional(),
    pid: UsbIdSchema.optional(),
    serial: nonEmpty.optional(),
    port: z
      .string()
      .regex(USB_PORT_PATH, 'expected a USB port path such as "3-1.4" (bus-port.port...)')
      .optional(),
    usbip: UsbipServerSchema.optional(),
    busid: z
      .string()
      .regex(USB_PORT_PATH, 'expected a USB/IP bus id such as "1-1.4" (bus-port.port...)')
      .optional(),
  })
  .superRefine((usb, ctx) => {
    const issue = (path: string, message: string) => ctx.addIssue({ code: "custom", path: [path], message });
    if (usb.usbip !== undefined) {
      if (usb.busid === undefined)
        issue("busid", "missing: the device's bus id on the USB/IP server (usbip list -r HOST prints it)");
      if (usb.port !== undefined)
        issue("port", "a port path names a port of this host; a USB/IP device is found by busid");
      if (usb.serial !== undefined)
        issue("serial", "a USB/IP device is found by busid; a serial number to expect goes in info");
      if (usb.vid !== undefined || usb.pid !== undefined)
        issue(
          usb.vid !== undefined ? "vid" : "pid",
          "a USB/IP device is found by busid; its ids come from the device",
        );
      return;
    }
    if (usb.busid !== undefined)
      issue("busid", 'busid names a device on a USB/IP server: add usbip: "HOST:PORT"');
    if (usb.vid === undefined)
      issue("vid", 'missing: the USB vendor id, such as "0483" (or usbip and busid)');
    if (usb.pid === undefined)
      issue("pid", 'missing: the USB product id, such as "df11" (or usbip and busid)');
  });

/**
 * "host:port" of a port on a rack host (ser2net, an LXI instrument). The port number is a
 * stable name, kept across power cycles and re-enumeration, as a by-id link is.
 */
export const EndpointSchema = z.string().superRefine((text, ctx) => {
  try {
    parseEndpoint(text);
  } catch (error) {
    ctx.addIssue({ code: "custom", message: (error as Error).message });
  }
});

/** A serial port on another host: exactly one of byId / usbSerial / rfc2217 / tcp kinds. */
function oneSerialKind(
  value: {
    byId?: string | undefined;
    usbSerial?: string | undefined;
    rfc2217?: string | undefined;
    tcp?: string | undefined;
  },
  ctx: z.RefinementCtx,
) {
  const remote = (["rfc2217", "tcp"] as const).filter((k) => value[k] !== undefined);
  // `serial: { baudRate }` alone is an emulated board's line rate; boardRules wants a locator on a lab board.
  if (Object.keys(value).every((k) => k === "baudRate")) return;
  if (remote.length === 0) return needsLocator(value, ctx);
  const local = (["byId", "usbSerial"] as const).filter((k) => value[k] !== undefined);
  if (remote.length + local.length > 1)
    ctx.addIssue({
      code: "custom",
      path: [remote.at(-1)!],
      message: `give one way to reach the port, not ${[...local, ...remote].join(" and ")}`,
    });
}

/**
 * A lab board's serial port: found by identity and re-resolved after every reset (byId,
 * usbSerial), or served by a rack host (`rfc2217: "rack3:3001"` from ser2net's
 * telnet(rfc2217) accepter, where baud rate, parity and DTR/RTS are set remotely;
 * `tcp: "rack3:4001"` for a raw socket, which carries bytes only).
 */
export const SerialSchema = z
  .strictObject(
    { ...serialLocatorShape, rfc2217: EndpointSchema.optional(), tcp: EndpointSchema.optional() },
    {
      error: (iss) => {
        if (iss.code !== "invalid_type" || typeof iss.input !== "string") return undefined;
        const input = JSON.stringify(iss.input);
        if (iss.input.startsWith(BY_ID_PREFIX)) return `expected a mapping: write serial: { byId: ${input} }`;
        if (iss.input.startsWith("/dev/")) return bareDevicePathMessage(iss.input);
        return (
          `expected a serial-port locator { byId, usbSerial, rfc2217, tcp, baudRate }, got ${input} ` +
          "(a USB serial number goes in usb.serial, or emulated.serial on an emulated board)"
        );
      },
    },
  )
  .superRefine(oneSerialKind);

// ---------------------------------------------------------------------------------------
// Controls

/**
 * Frames of a relay board with its own command set (`protocol: custom`). `hex`: bytes as
 * two hex digits separated by spaces, `{channel}` one byte, `{sum}` the sum of the bytes
 * before it mod 256 ("A0 {channel} 01 {sum}"). `text`: `{channel}` in decimal, escapes
 * \r \n \t \\ \xNN. With `query`, the state is read back: `replyOn`/`replyOff` are the answers.
 */
const RelayCustomSchema = z
  .strictObject({
    encoding: z.enum(["hex", "text"]),
    on: nonEmpty,
    off: nonEmpty,
    query: nonEmpty.optional(),
    replyOn: nonEmpty.optional(),
    replyOff: nonEmpty.optional(),
  })
  .superRefine((c, ctx) => {
    const hexOk = /^\s*(([0-9a-fA-F]{2}|\{channel\}|\{sum\})\s*)+$/;
    for (const key of ["on", "off", "query", "replyOn", "replyOff"] as const) {
      const v = c[key];
      if (v !== undefined && c.encoding === "hex" && !hexOk.test(v))
        ctx.addIssue({
          code: "custom",
          path: [key],
          message: `expected hex bytes separated by spaces, {channel} or {sum}, got ${JSON.stringify(v)}`,
        });
    }
    if (c.query !== undefined && (c.replyOn === undefined || c.replyOff === undefined))
      ctx.addIssue({ code: "custom", path: ["query"], message: "a query needs replyOn and replyOff" });
    if (c.query === undefined && (c.replyOn !== undefined || c.replyOff !== undefined))
      ctx.addIssue({ code: "custom", path: ["replyOn"], message: "replyOn/replyOff need a query" });
  });

/** A channel on a serial relay board. `normallyClosed`: the load is connected while the coil is off. */
const relayShape = {
  backend: z.literal("relay"),
  ...serialLocatorShape,
  /**
   * Command set of the relay board: Numato USB relay modules, LCUS (CH340, A0-prefixed
   * frames), or custom frames given in `custom`.
   */
  protocol: z.enum(["numato", "lcus", "custom"]),
  /** As the relay board numbers its channels (Numato from 0, LCUS from 1). */
  channel: z.number().int().nonnegative(),
  normallyClosed: z.boolean().optional(),
  custom: RelayCustomSchema.optional(),
};

/** Locator, and `custom` frames exactly when the protocol is custom. */
function relayRules(
  value: {
    byId?: string | undefined;
    usbSerial?: string | undefined;
    protocol: string;
    channel: number;
    custom?: unknown;
  },
  ctx: z.RefinementCtx,
) {
  needsLocator(value, ctx);
  if (value.protocol === "custom" && value.custom === undefined)
    ctx.addIssue({
      code: "custom",
      path: ["custom"],
      message: "missing: protocol custom needs custom frames",
    });
  if (value.protocol !== "custom" && value.custom !== undefined)
    ctx.addIssue({
      code: "custom",
      path: ["custom"],
      message: `custom frames need protocol custom, not ${value.protocol}`,
    });
  if (value.protocol === "lcus" && value.channel === 0)
    ctx.addIssue({ code: "custom", path: ["channel"], message: "LCUS relay boards number channels from 1" });
}

/** A line of a Linux GPIO chip (libgpiod character device). */
const gpioShape = {
  backend: z.literal("gpio"),
  chip: z.string().regex(/^(\/dev\/)?gpiochip\d+$/, 'expected a GPIO chip such as "gpiochip0"'),
  line: z.number().int().nonnegative(),
  activeLow: z.boolean().optional(),
};

/** One step of a DTR/RTS sequence on the board's serial port: `true` asserts the signal. */
const SignalStepSchema = z
  .strictObject({
    dtr: z.boolean().optional(),
    rts: z.boolean().optional(),
    waitMs: positiveInt.optional(),
  })
  .refine((s) => s.dtr !== undefined || s.rts !== undefined || s.waitMs !== undefined, {
    message: "a step sets dtr, rts or waitMs",
  });
/**
 * A DTR/RTS sequence: steps, or the string a lab already passes to stm32flash `-i` for that
 * part ("-dtr,rts,,dtr" enters the bootloader; the part after its ':' goes in `application`).
 */
const SignalSequenceSchema = z.union([
  z.array(SignalStepSchema).min(1, "needs at least one step"),
  z.string().superRefine((text, ctx) => {
    if (text.includes(":")) {
      ctx.addIssue({
        code: "custom",
        message: `${JSON.stringify(text)}: give stm32flash's entry part here and its exit part (after ':') as the application sequence`,
      });
      return;
    }
    try {
      if (parseStm32flashSequence(text).bootloader.length === 0)
        ctx.addIssue({ code: "custom", message: "an empty stm32flash sequence" });
    } catch (e) {
      ctx.addIssue({ code: "custom", message: (e as Error).message });
    }
  }),
]);

/**
 * Whether a backend really removes power. uhubctl and command backends say so explicitly
 * (`cutsPower: true`, after measuring): many hubs switch only the data lines, not VBUS.
 */
const cutsPower = z.boolean().optional();

export const PowerSchema = z.discriminatedUnion("backend", [
  z.strictObject({ backend: z.literal("emulated") }),
  /** Per-port power switching of a USB hub (uhubctl -l <location> -p <port>). */
  z.strictObject({
    backend: z.literal("uhubctl"),
    location: z.string().regex(/^\d+(-\d+(\.\d+)*)?$/, 'expected a uhubctl hub location such as "1-1.4"'),
    port: positiveInt,
    cutsPower,
  }),
  /**
   * Output channel of a bench power supply speaking SCPI on a serial port, or over the
   * network on its LXI raw socket (`tcp: "psu3:5025"`).
   */
  z
    .strictObject({
      backend: z.literal("scpi"),
      ...serialLocatorShape,
      tcp: EndpointSchema.optional(),
      channel: positiveInt,
      /** Set before switching on when given; left as the supply has it otherwise. */
      voltage: z.number().positive().optional(),
      currentLimit: z.number().positive().optional(),
    })
    .superRefine(oneSerialKind),
  z.strictObject(relayShape).superRefine(relayRules),
  z.strictObject(gpioShape),
  /** Shell commands (run via execa); `state` prints "on" or "off". */
  z.strictObject({
    backend: z.literal("command"),
    on: nonEmpty,
    off: nonEmpty,
    state: nonEmpty.optional(),
    cutsPower,
  }),
  /** Asks a person; tests needing it are skipped when unattended. */
  z.strictObject({ backend: z.literal("manual"), prompt: nonEmpty.optional() }),
]);

export const BootSchema = z.discriminatedUnion("backend", [
  z.strictObject({ backend: z.literal("emulated") }),
  /** Relay or GPIO drives BOOT0: asserted for the bootloader. */
  z.strictObject(relayShape).superRefine(relayRules),
  z.strictObject(gpioShape),
  z.strictObject({ backend: z.literal("command"), bootloader: nonEmpty, application: nonEmpty }),
  /** DTR/RTS wired to BOOT0/NRST of the board's serial port (as stm32flash -i does). */
  z.strictObject({
    backend: z.literal("dtr-rts"),
    bootloader: SignalSequenceSchema,
    application: SignalSequenceSchema,
  }),
  /**
   * No line to BOOT0: the board starts where it is strapped on every reset and power-up.
   * `bootloader` (the default): BOOT0 strapped high, so the harness reaches the ROM with a
   * reset, else a power cycle, whatever the last run left running. `application`: strapped
   * low; the harness cannot reach the ROM (identify shows the board as not checked).
   */
  z.strictObject({ backend: z.literal("none"), startsIn: z.enum(["bootloader", "application"]).optional() }),
]);

export const ResetSchema = z.discriminatedUnion("backend", [
  z.strictObject({ backend: z.literal("emulated") }),
  /** Relay or GPIO on NRST: asserted for `pulseMs`. */
  z.strictObject({ ...relayShape, pulseMs: positiveInt.optional() }).superRefine(relayRules),
  z.strictObject({ ...gpioShape, pulseMs: positiveInt.optional() }),
  z.strictObject({ backend: z.literal("command"), command: nonEmpty }),
  z.strictObject({ backend: z.literal("dtr-rts"), sequence: SignalSequenceSchema }),
  z.strictObject({ backend: z.literal("none") }),
]);

/**
 * Where board leases live: lock files on this host (the default), or etcd for racks on
 * several hosts. Secrets never sit in the file: a password is named by its environment
 * variable, TLS keys by their paths.
 */
export const LeasesSchema = z.discriminatedUnion("backend", [
  z.strictObject({ backend: z.literal("file"), dir: nonEmpty.optional() }),
  z.strictObject({
    backend: z.literal("etcd"),
    endpoints: z
      .array(
        z
          .string()
          .regex(
            /^https?:\/\/[^/@\s]+\/?$/,
            'expected "http://host:port" or "https://host:port" (credentials go in auth)',
          ),
      )
      .min(1, "needs at least one endpoint"),
    prefix: z
      .string()
      .regex(/^\/.*\/$/, 'must start and end with "/", such as "/update-hil/"')
      .default("/update-hil/"),
    /** Seconds; a crashed holder's boards are free again this long after its last keepalive. */
    ttlS: z.number().int().min(3, "must be at least 3 s").default(15),
    tls: z
      .strictObject({ ca: nonEmpty.optional(), cert: nonEmpty.optional(), key: nonEmpty.optional() })
      .optional(),
    auth: z
      .strictObject({
        user: nonEmpty,
        passwordEnv: z
          .string()
          .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "must name an environment variable such as HIL_ETCD_PASSWORD"),
        /** Refused with a reason: a secret in a rig file ends up in a repository. */
        password: z
          .unknown()
          .refine(
            () => false,
            "a password never goes in the rig file: name its environment variable in passwordEnv",
          )
          .optional(),
      })
      .optional(),
  }),
]);

export type LeasesSpec = z.output<typeof LeasesSchema>;

/** Waits, in ms of the board's clock (virtual on emulated boards). */
export const TimeoutsSchema = z.strictObject({
  /** Longest wait for the USB device / serial port to (re)appear after power-on or reset. */
  enumerateMs: positiveInt.optional(),
  /** Wait after it appears before opening it (open races right after enumeration). */
  settleMs: positiveInt.optional(),
  /** How long power stays off in `cycle()`. */
  powerOffMs: positiveInt.optional(),
  /** Time limit of one command / uhubctl / relay operation. */
  commandMs: positiveInt.optional(),
});

export type Timeouts = Required<z.output<typeof TimeoutsSchema>>;

/** Used where neither the board nor the rig sets a timeout. */
export const DEFAULT_TIMEOUTS: Readonly<Timeouts> = Object.freeze({
  enumerateMs: 5000,
  settleMs: 250,
  powerOffMs: 2000,
  commandMs: 10000,
});

// ---------------------------------------------------------------------------------------
// Board

/** Lab power backends that remove power without being told so (`cutsPower`). */
const CUTS_POWER_ALWAYS = new Set(["scpi", "relay", "gpio"]);

const BoardInputSchema = z
  .strictObject({
    id: BoardIdSchema,
    family: z.enum(FAMILIES),
    capabilities: z.array(z.enum(CAPABILITIES)),
    /** Known versions and identities (bootloader, firmware, ...), reported as `version.<key>` labels. */
    info: z
      .record(
        z.string().regex(/^[a-z0-9][a-z0-9_.-]*$/, "info keys are lowercase letters, digits, '_', '.', '-'"),
        z.string(),
      )
      .optional(),
    emulated: EmulatedSchema.optional(),
    usb: UsbSchema.optional(),
    serial: SerialSchema.optional(),
    power: PowerSchema.optional(),
    boot: BootSchema.optional(),
    reset: ResetSchema.optional(),
    timeouts: TimeoutsSchema.optional(),
    twin: TwinSchema.optional(),
  })
  .superRefine(boardRules);

type BoardInput = z.output<typeof BoardInputSchema>;

/**
 * Rules across fields of one board.
 * - An emulated board (`emulated:`) has no lab identity and only emulated/none controls
 *   (power defaults to emulated). A lab board has `usb` and/or `serial`, and a power backend.
 * - `flash-faults` only on emulated boards: flash-level faults need the emulator.
 * - `inspect` only on emulated boards (every one has it, listed or not): white-box access
 *   to a lab board needs a debug probe the rig cannot drive yet.
 * - `power-cut` on a lab board needs a backend that removes power: scpi, relay, gpio,
 *   or uhubctl/command marked `cutsPower: true`. manual is refused (a person cannot cut
 *   at a chosen moment). An error, not a warning: a suite that believes it cut power when
 *   only the data lines dropped passes for the wrong reason.
 * - `fus` only on stm32wb55; dtr-rts controls need the board's serial port.
 * - Capabilities are listed once.
 */
function boardRules(board: BoardInput, ctx: z.RefinementCtx): void {
  const issue = (path: (string | number)[], message: string) =>
    ctx.addIssue({ code: "custom", path, message });
  const emulated = board.emulated !== undefined;

  if (emulated) {
    if (board.twin !== undefined)
      issue(["twin"], "twin is for lab boards; an emulated board is its own emulator");
    if (board.usb) issue(["usb"], "an emulated board has no USB identity; remove usb or emulated");
    if (board.serial && Object.keys(board.serial).some((k) => k !== "baudRate"))
      issue(
        ["serial"],
        "an emulated board has no serial port locator; its serial takes only baudRate (the rate its client opens the USART at)",
      );
    if (board.boot?.backend === "none" && board.boot.startsIn !== undefined)
      issue(
        ["boot", "startsIn"],
        "startsIn is how a lab board is strapped; an emulated board starts where its emulator says",
      );
    for (const key of ["power", "boot", "reset"] as const) {
      const backend = board[key]?.backend;
      const allowed = key === "power" ? ["emulated"] : ["emulated", "none"];
      if (backend !== undefined && !allowed.includes(backend)) {
        issue([key, "backend"], `an emulated board takes backend ${allowed.join(" or ")}, not ${backend}`);
      }
    }
  } else {
    if (board.serial && Object.keys(board.serial).every((k) => k === "baudRate"))
      issue(["serial"], "needs byId or usbSerial to find the device");
    if (!board.usb && !board.serial) {
      issue([], "a board needs emulated, or a lab identity: usb and/or serial");
    }
    if (!board.power) {
      issue(
        ["power"],
        "missing: a lab board needs a power backend (uhubctl, scpi, relay, gpio, command or manual)",
      );
    }
    for (const key of ["power", "boot", "reset"] as const) {
      if (board[key]?.backend === "emulated")
        issue([key, "backend"], "backend emulated needs an emulated board");
      if (board[key]?.backend === "dtr-rts" && !board.serial) {
        issue([key, "backend"], "backend dtr-rts needs the board's serial port (serial: byId or usbSerial)");
      }
      if (board[key]?.backend === "dtr-rts" && board.serial?.tcp !== undefined) {
        issue(
          [key, "backend"],
          "backend dtr-rts needs modem lines: serial.tcp carries bytes only (use rfc2217)",
        );
      }
    }
  }

  const seen = new Set<Capability>();
  board.capabilities.forEach((capability, i) => {
    const at = ["capabilities", i];
    if (seen.has(capability)) issue(at, `capability ${capability} is listed twice`);
    seen.add(capability);
    if (capability === "flash-faults" && !emulated) {
      issue(at, "flash-faults needs an emulated board: flash-level faults are injected by the emulator");
    }
    if (capability === "inspect" && !emulated) {
      issue(at, "inspect needs an emulated board: white-box access to a lab board needs a debug probe");
    }
    if (capability === "fus" && board.family !== "stm32wb55") {
      issue(at, `fus is only on stm32wb55 boards, not ${board.family}`);
    }
    if (capability === "power-cut" && !emulated && board.power) {
      const power = board.power;
      const cuts =
        CUTS_POWER_ALWAYS.has(power.backend) ||
        ((power.backend === "uhubctl" || power.backend === "command") && power.cutsPower === true);
      if (!cuts) {
        issue(
          at,
          power.backend === "manual"
            ? "power-cut needs a power backend that cuts at a chosen moment; manual cannot"
            : `power-cut needs a power backend that removes power; ${power.backend} is not marked cutsPower: true` +
                (power.backend === "uhubctl" ? " (many hubs switch only the data lines, not VBUS)" : "") +
                ": measure that power really drops, then set power.cutsPower: true, or use scpi, relay or gpio",
        );
      }
    }
  });
}

// ---------------------------------------------------------------------------------------
// Rig file

export type PowerSpec = z.output<typeof PowerSchema>;
export type BootSpec = z.output<typeof BootSchema>;
export type ResetSpec = z.output<typeof ResetSchema>;
export type EmulatedSpec = z.output<typeof EmulatedSchema>;
/** A USB device on this host, by ids (and serial, port path). */
export interface UsbIdentity {
  readonly vid: number;
  readonly pid: number;
  readonly serial?: string | undefined;
  readonly port?: string | undefined;
}
export type SerialLocator = z.output<typeof SerialSchema>;
/** The emulated twin's profile and options; `{}` is a twin the board's identity configures. */
export type TwinSpec = {
  readonly profile?: string | undefined;
  readonly options?: Record<string, unknown> | undefined;
};

/**
 * Where a field of a board is in its rig file, as validation errors say it:
 * `rigs/lab.yaml:7 boards[0].serial` for `["serial"]`, the board's entry for `[]`.
 */
export type RigFieldLocator = (field: readonly (string | number)[]) => string;

interface BoardSpecBase {
  readonly id: string;
  /** Set by the loader (load.ts), for findings that point back at the file; absent on a spec built by hand. */
  readonly where?: RigFieldLocator;
  readonly family: Family;
  readonly capabilities: readonly Capability[];
  readonly info: Readonly<Record<string, string>>;
  /** Board's values over the rig's over {@link DEFAULT_TIMEOUTS}. */
  readonly timeouts: Readonly<Timeouts>;
}

export interface EmulatedBoardSpec extends BoardSpecBase {
  readonly kind: "emulated";
  readonly emulated: EmulatedSpec;
  /** `serial: { baudRate }`: the rate the board's client opens its USART at (the ROM auto-bauds to it). */
  readonly serial?: { readonly baudRate?: number | undefined } | undefined;
  readonly power: Extract<PowerSpec, { backend: "emulated" }>;
  /** `emulated` unless the file says `none`. */
  readonly boot: Extract<BootSpec, { backend: "emulated" | "none" }>;
  readonly reset: Extract<ResetSpec, { backend: "emulated" | "none" }>;
}

export interface LabBoardSpec extends BoardSpecBase {
  readonly kind: "lab";
  readonly usb: UsbIdentity | undefined;
  /** The board's USB on another host's USB/IP server (rig file `usb: { usbip, busid }`). */
  readonly usbip: UsbipLocation | undefined;
  readonly serial: SerialLocator | undefined;
  readonly power: Exclude<PowerSpec, { backend: "emulated" }>;
  /** `none` when the file gives no boot control. */
  readonly boot: Exclude<BootSpec, { backend: "emulated" }>;
  readonly reset: Exclude<ResetSpec, { backend: "emulated" }>;
  /** The emulated twin every scenario also runs on (`twin:` in the rig file); absent: none unless `hil run --twin`. */
  readonly twin?: TwinSpec;
}

export type BoardSpec = EmulatedBoardSpec | LabBoardSpec;

/** A validated, normalized rig file. */
export interface RigFile {
  readonly name: string;
  readonly description: string | undefined;
  readonly boards: readonly BoardSpec[];
  /** Where board leases live; absent: lock files on this host. */
  readonly leases?: LeasesSpec | undefined;
}

function normalizeBoard(board: BoardInput, rigTimeouts: Partial<Timeouts> | undefined): BoardSpec {
  const base = {
    id: board.id,
    family: board.family,
    capabilities: board.capabilities,
    info: board.info ?? {},
    timeouts: { ...DEFAULT_TIMEOUTS, ...rigTimeouts, ...board.timeouts },
  };
  // boardRules has checked which backends go with which kind of board.
  if (board.emulated) {
    return {
      ...base,
      kind: "emulated",
      emulated: board.emulated,
      ...(board.serial?.baudRate !== undefined ? { serial: { baudRate: board.serial.baudRate } } : {}),
      power: (board.power ?? { backend: "emulated" }) as EmulatedBoardSpec["power"],
      boot: (board.boot ?? { backend: "emulated" }) as EmulatedBoardSpec["boot"],
      reset: (board.reset ?? { backend: "emulated" }) as EmulatedBoardSpec["reset"],
    };
  }
  return {
    ...base,
    kind: "lab",
    ...splitUsb(board.usb),
    serial: board.serial,
    power: board.power as LabBoardSpec["power"],
    boot: (board.boot ?? { backend: "none" }) as LabBoardSpec["boot"],
    reset: (board.reset ?? { backend: "none" }) as LabBoardSpec["reset"],
    ...(board.twin === true ? { twin: {} } : board.twin ? { twin: board.twin } : {}),
  };
}

/** The rig file's `usb`: a device on this host, or one on a USB/IP server (the schema checked which). */
function splitUsb(usb: BoardInput["usb"]): {
  usb: UsbIdentity | undefined;
  usbip: UsbipLocation | undefined;
} {
  if (usb?.usbip) return { usb: undefined, usbip: { ...usb.usbip, busid: usb.busid! } };
  if (!usb) return { usb: undefined, usbip: undefined };
  const { vid, pid, serial, port } = usb;
  const local = {
    vid: vid!,
    pid: pid!,
    ...(serial === undefined ? {} : { serial }),
    ...(port === undefined ? {} : { port }),
  };
  return { usb: local, usbip: undefined };
}

/** Parameters of the duplicate-id issue, so a loader can name the first board's line. */
export interface DuplicateIdParams {
  readonly rule: "duplicate-board-id";
  readonly id: string;
  /** Index in `boards` of the first board with this id. */
  readonly firstIndex: number;
}

/**
 * Duplicate board ids. Runs even when some board is malformed (`when`), so every problem in
 * the file is listed at once; zod would otherwise skip checks after a failed element.
 */
function uniqueIds(boards: unknown[], ctx: z.RefinementCtx): void {
  const first = new Map<string, number>();
  boards.forEach((board, i) => {
    const id = (board as { id?: unknown } | null)?.id;
    if (typeof id !== "string") return;
    const firstIndex = first.get(id);
    if (firstIndex === undefined) {
      first.set(id, i);
      return;
    }
    const params: DuplicateIdParams = { rule: "duplicate-board-id", id, firstIndex };
    ctx.addIssue({
      code: "custom",
      path: [i, "id"],
      message: `duplicate board id ${JSON.stringify(id)}, first used by boards[${firstIndex}]`,
      params: { ...params },
    });
  });
}

const BoardsSchema = z
  .array(BoardInputSchema)
  .min(1, "a rig needs at least one board")
  .superRefine(uniqueIds, { when: (payload) => Array.isArray(payload.value) });

/** Schema of a whole rig file; parses to a normalized {@link RigFile}. */
export const RigFileSchema = z
  .strictObject({
    name: z.string().regex(SLUG, `rig name ${SLUG_MESSAGE}`),
    description: z.string().optional(),
    /** Defaults for every board's timeouts. */
    timeouts: TimeoutsSchema.optional(),
    boards: BoardsSchema,
    leases: LeasesSchema.optional(),
  })
  .transform(
    (rig): RigFile => ({
      name: rig.name,
      description: rig.description,
      boards: rig.boards.map((board) => normalizeBoard(board, rig.timeouts)),
      ...(rig.leases ? { leases: rig.leases } : {}),
    }),
  );
