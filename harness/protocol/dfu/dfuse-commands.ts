/**
 * ST DfuSe commands (AN3156 §5): sent as DFU_DNLOAD with wBlockNum 0; addresses are
 * 32-bit little-endian (unlike the USART bootloader). Executed by the GETSTATUS that follows.
 */
import { DfuPayloadError } from "./status.js";

export const DfuseCommand = {
  GET_COMMANDS: 0x00,
  SET_ADDRESS_POINTER: 0x21,
  ERASE: 0x41,
  READ_UNPROTECT: 0x92,
} as const;
export type DfuseCommandCode = (typeof DfuseCommand)[keyof typeof DfuseCommand];

export type DfuseCommandFrame =
  | { kind: "get-commands" }
  | { kind: "set-address"; address: number }
  | { kind: "erase-page"; address: number }
  | { kind: "mass-erase" }
  | { kind: "read-unprotect" };

/** wBlockNum carrying a command; data blocks start at 2, 1 is undefined. */
export const COMMAND_BLOCK = 0;
export const FIRST_DATA_BLOCK = 2;

export function encodeDfuseCommand(cmd: DfuseCommandFrame): Uint8Array {
  switch (cmd.kind) {
    case "get-commands":
      return Uint8Array.of(DfuseCommand.GET_COMMANDS);
    case "mass-erase":
      return Uint8Array.of(DfuseCommand.ERASE);
    case "read-unprotect":
      return Uint8Array.of(DfuseCommand.READ_UNPROTECT);
    case "set-address":
    case "erase-page": {
      const code = cmd.kind === "set-address" ? DfuseCommand.SET_ADDRESS_POINTER : DfuseCommand.ERASE;
      const out = new Uint8Array(5);
      out[0] = code;
      new DataView(out.buffer).setUint32(1, checkAddress(cmd.address), true);
      return out;
    }
  }
}

/** @throws {DfuPayloadError} naming the byte for an unknown code or a bad length. */
export function decodeDfuseCommand(bytes: Uint8Array): DfuseCommandFrame {
  const code = bytes[0];
  const len = bytes.length;
  const address = () => new DataView(bytes.buffer, bytes.byteOffset, len).getUint32(1, true);
  if (code === DfuseCommand.GET_COMMANDS && len === 1) return { kind: "get-commands" };
  if (code === DfuseCommand.SET_ADDRESS_POINTER && len === 5)
    return { kind: "set-address", address: address() };
  if (code === DfuseCommand.ERASE && len === 5) return { kind: "erase-page", address: address() };
  if (code === DfuseCommand.ERASE && len === 1) return { kind: "mass-erase" };
  if (code === DfuseCommand.READ_UNPROTECT && len === 1) return { kind: "read-unprotect" };
  if (code === undefined) throw new DfuPayloadError("DfuSe command: empty (a zero-length DNLOAD is Leave)");
  throw new DfuPayloadError(
    `DfuSe command byte 0: 0x${code.toString(16).padStart(2, "0")} with ${len} bytes is not a known command`,
  );
}

/** The Get Commands reply (UPLOAD block 0): the codes the bootloader supports. */
export function decodeGetCommands(bytes: Uint8Array): number[] {
  return [...bytes];
}

/** AN3156: address = (wBlockNum − 2) × wTransferSize + pointer, wTransferSize being the request's wLength. */
export function blockAddress(blockNum: number, transferSize: number, pointer: number): number {
  if (blockNum < FIRST_DATA_BLOCK) throw new RangeError(`block ${blockNum} carries no data address`);
  return (blockNum - FIRST_DATA_BLOCK) * transferSize + pointer;
}

function checkAddress(address: number): number {
  if (!Number.isInteger(address) || address < 0 || address > 0xffff_ffff)
    throw new RangeError(`address ${address} is not a 32-bit unsigned integer`);
  return address;
}

export function hex32(address: number): string {
  return `0x${(address >>> 0).toString(16).padStart(8, "0")}`;
}
