/**
 * FUS behind the USART bootloader's special commands (AN5185 §7.1, Tables 15–17): special
 * read 0x50 carries FUS_GET_STATE (opcode 0x54) and answers a data packet [0x00, state,
 * error] and a status packet [0x00]; special write 0x51 carries the other commands and
 * answers [0x00] or [0x01, state, error]. No answer at all when the chip resets under the
 * request (the host must resync).
 */
import {
  encodeCommandStatus,
  encodeUsartStateData,
  USART_READ_OPCODES,
  USART_WRITE_OPCODES,
} from "../../../protocol/fus/index.js";
import type { SpecialHandler } from "../usart/bootloader.js";
import type { Cpu2 } from "./cpu2.js";

export function fusUsartHandler(fus: Cpu2): SpecialHandler {
  return {
    supports: (command, opcode) =>
      (command === "special" ? USART_READ_OPCODES : USART_WRITE_OPCODES).has(opcode),
    async special(opcode) {
      if (!USART_READ_OPCODES.has(opcode)) return undefined;
      const s = await fus.getState();
      if (!s) return undefined;
      return { data: encodeUsartStateData(s.state, s.error), status: encodeCommandStatus({ ok: true }) };
    },
    async extendedSpecial(opcode, _address, data) {
      if (!USART_WRITE_OPCODES.has(opcode)) return undefined;
      const status = await fus.command(opcode, data);
      // STORE_USR_KEY: [0x00, state, key index] (Table 17, §7.1.1 "error code (or key index)").
      if (opcode === 0x58 && status.ok && fus.lastKeyIndex !== undefined)
        return Uint8Array.of(0x00, fus.state.state, fus.lastKeyIndex);
      return encodeCommandStatus(status);
    },
  };
}
