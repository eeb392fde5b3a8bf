/**
 * The TKey firmware as a state machine over received bytes, without time or transport
 * (the device adds those). It follows the firmware protocol and the firmware's own rules:
 *
 * - waiting accepts NAME_VERSION, GET_UDI and LOAD_APP; loading accepts LOAD_APP_DATA;
 * - a bad header bit, another endpoint than 2, a length other than the command's, an
 *   unknown command or one not allowed in the state halts the CPU: nothing is ever sent
 *   again until power is cycled;
 * - LOAD_APP with size 0 or above the RAM size answers STATUS_BAD and keeps the state
 *   (the only error a client can recover from);
 * - after the last chunk: the BLAKE2s digest of exactly `size` bytes, then the CDI, then
 *   the app runs and the firmware never speaks again.
 */
import {
  appDigest,
  CHUNK_SIZE,
  computeCdi,
  type DecodedHeader,
  decodeLoadAppCmd,
  Endpoint,
  encodeGetUdiRsp,
  encodeLoadAppDataReadyRsp,
  encodeNameVersionRsp,
  encodeStatusRsp,
  FW_CMD_LENGTH,
  FW_CMD_NAMES,
  FwCmd,
  FwRsp,
  STATUS_BAD,
  STATUS_OK,
} from "../../protocol/tkey/index.js";
import { type AppBehaviour, type AppContext, appReply, UNKNOWN_COMMAND_APP } from "./app.js";
import type { FirmwareRole, TKeyProfile } from "./profiles.js";
import { FrameReader } from "./reader.js";

export interface FirmwareIdentity {
  /** The Unique Device Secret as the CPU reads it (32 bytes). */
  uds: Uint8Array;
  udiWords: readonly [number, number];
}

export interface FirmwareHooks {
  /** Chunk `index` (1-based in this load) arrived; `data` is what will be copied to RAM and may be altered (line faults). */
  onChunk?(index: number, data: Uint8Array): void;
  /** The behaviour for a loaded app, by digest. */
  appFor?(digest: Uint8Array): AppBehaviour | undefined;
}

/** Where a firmware differs from the hardware's rules (per board, from its options). */
export interface FirmwareQuirks {
  /**
   * The QEMU tk1 machine: the offending frame gets no reply, as on hardware, but the trap
   * restarts the firmware, which answers the next frame again (observed running TK1-24.03
   * in QEMU; real hardware halts until unplugged).
   */
  readonly trapRestarts?: boolean;
}

export type FirmwareOutcome =
  | { kind: "reply"; frame: Uint8Array; command: string; chunk?: number }
  | { kind: "halt"; reason: string; restarted?: boolean }
  | { kind: "ignored"; reason: string };

export interface LoadedApp {
  readonly size: number;
  readonly image: Uint8Array;
  readonly digest: Uint8Array;
  /** The USS field when the flag was nonzero. */
  readonly uss: Uint8Array | undefined;
  readonly cdi: Uint8Array;
  readonly behaviour: AppBehaviour;
}

interface Loading {
  size: number;
  uss: Uint8Array | undefined;
  ram: Uint8Array;
  filled: number;
  chunks: number;
}

const ALLOWED: Readonly<Record<FirmwareRole, readonly number[]>> = {
  waiting: [FwCmd.NAME_VERSION, FwCmd.GET_UDI, FwCmd.LOAD_APP],
  loading: [FwCmd.LOAD_APP_DATA],
  running: [],
  halted: [],
};

export class TKeyFirmware {
  #role: FirmwareRole = "waiting";
  #haltReason: string | undefined;
  #loading: Loading | undefined;
  #app: LoadedApp | undefined;
  readonly #reader = new FrameReader();

  constructor(
    readonly profile: TKeyProfile,
    readonly identity: FirmwareIdentity,
    readonly hooks: FirmwareHooks = {},
    readonly quirks: FirmwareQuirks = {},
  ) {}

  get role(): FirmwareRole {
    return this.#role;
  }

  /** The state as this release names it (INITIAL, WAITCOMMAND, LOADING, RUN, START, FAIL). */
  get stateName(): string {
    return this.profile.stateNames[this.#role];
  }

  get haltReason(): string | undefined {
    return this.#haltReason;
  }

  get app(): LoadedApp | undefined {
    return this.#app;
  }

  /** Bytes of the load so far (RAM at 0x4000_0000), while loading. */
  get loadProgress(): { size: number; filled: number; chunks: number } | undefined {
    const l = this.#loading;
    return l && { size: l.size, filled: l.filled, chunks: l.chunks };
  }

  /** The LED as the firmware drives it: white while waiting, off while loading; the hardware blinks red on a halt. */
  get led(): "white" | "black" | "red-blinking" | "app" {
    return { waiting: "white", loading: "black", halted: "red-blinking", running: "app" }[this.#role] as
      | "white"
      | "black"
      | "red-blinking"
      | "app";
  }

  /** One byte from the host; an outcome once a frame (or a bad header) is complete. */
  receive(byte: number): FirmwareOutcome | undefined {
    if (this.#role === "halted") return undefined;
    const step = this.#reader.push(byte);
    if (step.kind === "more") return undefined;
    if (this.#role === "running") return this.#appFrame(step);
    if (step.kind === "bad-header")
      return this.#halt(
        `header 0x${hex(step.byte)} has the ${step.header.reservedBit ? "reserved bit 7" : "status bit 2"} set`,
      );
    return this.#command(step.header, step.payload);
  }

  #command(header: DecodedHeader, payload: Uint8Array): FirmwareOutcome {
    if (header.endpoint !== Endpoint.firmware)
      return this.#halt(`frame for endpoint ${header.endpoint}, not the firmware (2)`);
    const cmd = payload[0]!;
    const name = FW_CMD_NAMES[cmd];
    if (!name) return this.#halt(`unknown command 0x${hex(cmd)}`);
    if (header.length !== FW_CMD_LENGTH[cmd as FwCmd])
      return this.#halt(`${name} with a ${header.length}-byte frame (needs ${FW_CMD_LENGTH[cmd as FwCmd]})`);
    if (!ALLOWED[this.#role].includes(cmd))
      return this.#halt(`${name} not allowed in state ${this.stateName}`);
    const id = header.id;
    switch (cmd) {
      case FwCmd.NAME_VERSION:
        return reply(name, encodeNameVersionRsp(this.profile, id));
      case FwCmd.GET_UDI:
        return reply(name, encodeGetUdiRsp(STATUS_OK, this.identity.udiWords, id));
      case FwCmd.LOAD_APP:
        return this.#loadApp(name, payload, id);
      default:
        return this.#loadAppData(name, payload, id);
    }
  }

  #loadApp(name: string, payload: Uint8Array, id: number): FirmwareOutcome {
    const req = decodeLoadAppCmd(payload);
    if (req.size === 0 || req.size > this.profile.appMaxSize)
      return reply(name, encodeStatusRsp(FwRsp.LOAD_APP, STATUS_BAD, id));
    this.#loading = {
      size: req.size,
      uss: req.ussProvided ? req.uss : undefined,
      ram: new Uint8Array(req.size),
      filled: 0,
      chunks: 0,
    };
    this.#role = "loading";
    return reply(name, encodeStatusRsp(FwRsp.LOAD_APP, STATUS_OK, id));
  }

  #loadAppData(name: string, payload: Uint8Array, id: number): FirmwareOutcome {
    const l = this.#loading!;
    l.chunks++;
    // Padding in the last chunk is neither copied nor checked.
    const data = payload.slice(1, 1 + Math.min(CHUNK_SIZE, l.size - l.filled));
    this.hooks.onChunk?.(l.chunks, data);
    l.ram.set(data, l.filled);
    l.filled += data.length;
    if (l.filled < l.size)
      return { ...reply(name, encodeStatusRsp(FwRsp.LOAD_APP_DATA, STATUS_OK, id)), chunk: l.chunks };
    const digest = appDigest(l.ram);
    this.#start(l, digest);
    return { ...reply(name, encodeLoadAppDataReadyRsp(STATUS_OK, digest, id)), chunk: l.chunks };
  }

  #start(l: Loading, digest: Uint8Array): void {
    const cdi = computeCdi(this.profile.cdi, { uds: this.identity.uds, digest, uss: l.uss });
    const behaviour = this.hooks.appFor?.(digest) ?? UNKNOWN_COMMAND_APP;
    this.#app = { size: l.size, image: l.ram, digest, uss: l.uss, cdi, behaviour };
    this.#loading = undefined;
    this.#role = "running";
  }

  #appFrame(step: Exclude<ReturnType<FrameReader["push"]>, { kind: "more" }>): FirmwareOutcome {
    // A malformed header is the app's business; the default app drops the byte and reads on.
    if (step.kind === "bad-header")
      return { kind: "ignored", reason: `app dropped header 0x${hex(step.byte)}` };
    const app = this.#app!;
    const ctx: AppContext = { digest: app.digest, cdi: app.cdi, uss: app.uss };
    const frame = appReply(app.behaviour, step.header, step.payload, ctx);
    return frame
      ? { kind: "reply", frame, command: `app frame for endpoint ${step.header.endpoint}` }
      : { kind: "ignored", reason: `app ignored a frame for endpoint ${step.header.endpoint}` };
  }

  #halt(reason: string): FirmwareOutcome {
    this.#loading = undefined;
    if (this.quirks.trapRestarts) {
      // A fresh start: waiting for commands, nothing loaded, the frame reader empty.
      this.#role = "waiting";
      this.#app = undefined;
      this.#reader.reset();
      return { kind: "halt", reason, restarted: true };
    }
    this.#role = "halted";
    this.#haltReason = reason;
    return { kind: "halt", reason };
  }
}

function reply(command: string, frame: Uint8Array): { kind: "reply"; frame: Uint8Array; command: string } {
  return { kind: "reply", frame, command };
}

function hex(b: number): string {
  return b.toString(16).padStart(2, "0");
}
