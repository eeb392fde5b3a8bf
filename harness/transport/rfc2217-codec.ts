/**
 * RFC 2217 COM-PORT-OPTION (telnet option 44) as pure functions: the requests a client
 * sends to set a remote serial port (baud rate, data size, parity, stop bits, modem lines,
 * flow control, purge) and the server's replies, whose command code is the request's + 100.
 * Values as the RFC numbers them; the baud rate is 4 bytes, network order.
 */
import { encodeSubnegotiation, OPT_COM_PORT } from "./telnet-codec.js";

export const ComPort = {
  signature: 0,
  setBaudRate: 1,
  setDataSize: 2,
  setParity: 3,
  setStopSize: 4,
  setControl: 5,
  notifyLineState: 6,
  notifyModemState: 7,
  flowControlSuspend: 8,
  flowControlResume: 9,
  setLineStateMask: 10,
  setModemStateMask: 11,
  purgeData: 12,
} as const;

/** Added to a command code in what the server sends. */
export const SERVER_OFFSET = 100;

export type Parity = "none" | "odd" | "even" | "mark" | "space";
export const PARITY_CODES: Readonly<Record<Parity, number>> = { none: 1, odd: 2, even: 3, mark: 4, space: 5 };

export type StopBits = 1 | 1.5 | 2;
export const STOP_CODES: ReadonlyMap<StopBits, number> = new Map<StopBits, number>([
  [1, 1],
  [2, 2],
  [1.5, 3],
]);

/** SET-CONTROL values the client uses (RFC 2217 lists more: BREAK, DCD/DSR flow, ...). */
export const Control = {
  noFlowControl: 1,
  xonXoff: 2,
  hardwareFlowControl: 3,
  dtrOn: 8,
  dtrOff: 9,
  rtsOn: 11,
  rtsOff: 12,
} as const;

export const Purge = { receive: 1, transmit: 2, both: 3 } as const;

/** The COM-PORT-OPTION payload (command, value) without telnet framing. */
export function comPortPayload(command: number, value: number): Uint8Array {
  if (!Number.isInteger(command) || command < 0 || command > 12)
    throw new RangeError(`COM-PORT-OPTION command must be 0..12, got ${command}`);
  if (command === ComPort.setBaudRate) {
    if (!Number.isInteger(value) || value < 0 || value > 0xffff_ffff)
      throw new RangeError(`baud rate must be a 32-bit whole number, got ${value}`);
    return Uint8Array.of(command, value >>> 24, (value >>> 16) & 0xff, (value >>> 8) & 0xff, value & 0xff);
  }
  if (!Number.isInteger(value) || value < 0 || value > 0xff)
    throw new RangeError(`COM-PORT-OPTION value must be a byte, got ${value}`);
  return Uint8Array.of(command, value);
}

/** IAC SB 44 <command> <value> IAC SE, 0xFF in the value doubled. */
export function encodeComPortRequest(command: number, value: number): Uint8Array {
  return encodeSubnegotiation(OPT_COM_PORT, comPortPayload(command, value));
}

export interface ComPortReply {
  /** The request command it answers (the code on the wire minus 100). */
  readonly command: number;
  /** The value the server reports; undefined when the payload carries none (SIGNATURE text aside). */
  readonly value: number | undefined;
  /** The payload after the command code (SIGNATURE: the server's name). */
  readonly data: Uint8Array;
}

/**
 * A COM-PORT-OPTION subnegotiation payload from the server.
 * @throws {Error} naming the byte when it is not a server code (100..112) or a baud value is short.
 */
export function decodeComPortReply(payload: Uint8Array): ComPortReply {
  const code = payload[0];
  if (code === undefined) throw new Error("COM-PORT-OPTION reply is empty");
  const command = code - SERVER_OFFSET;
  if (command < 0 || command > 12)
    throw new Error(`COM-PORT-OPTION reply code 0x${code.toString(16)} is not a server code (100..112)`);
  const data = payload.subarray(1);
  if (command === ComPort.setBaudRate) {
    if (data.length !== 4)
      throw new Error(`COM-PORT-OPTION SET-BAUDRATE reply carries ${data.length} value bytes, not 4`);
    return { command, value: new DataView(data.buffer, data.byteOffset, 4).getUint32(0), data };
  }
  return { command, value: command === ComPort.signature ? undefined : data[0], data };
}

/** Readable name of a command, for messages: "SET-PARITY". */
export function comPortName(command: number): string {
  const names = [
    "SIGNATURE",
    "SET-BAUDRATE",
    "SET-DATASIZE",
    "SET-PARITY",
    "SET-STOPSIZE",
    "SET-CONTROL",
    "NOTIFY-LINESTATE",
    "NOTIFY-MODEMSTATE",
    "FLOWCONTROL-SUSPEND",
    "FLOWCONTROL-RESUME",
    "SET-LINESTATE-MASK",
    "SET-MODEMSTATE-MASK",
    "PURGE-DATA",
  ];
  return names[command] ?? `command ${command}`;
}
