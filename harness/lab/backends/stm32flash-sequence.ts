/**
 * stm32flash's `-i` GPIO sequences, read into the steps the dtr-rts backend plays, so a lab
 * can reuse the string it already passes to stm32flash: `-dtr,rts,,dtr:-rts`.
 *
 * As stm32flash's init.c reads them: `entry[:exit]`; a signal is `rts` or `dtr`, prefixed
 * with `-` to drive it to 0 (deasserted), bare to drive it to 1 (asserted); `,` waits
 * 100 ms, `&` separates without waiting; several `,` add up (`,,,` = 300 ms). stm32flash
 * also takes `brk` and Linux GPIO numbers: the dtr-rts backend drives modem lines only, so
 * those are refused with the position named, as is anything else.
 */

import { type ErrorCategory, HilError } from "../../seams/errors.js";
import type { SignalStep } from "./dtr-rts.js";

/** What one `,` waits (stm32flash: usleep(100000)). */
export const STM32FLASH_DELAY_MS = 100;

export interface Stm32flashSequence {
  /** Before talking to the bootloader (`entry`, before the `:`). */
  readonly bootloader: SignalStep[];
  /** After it (`exit`, after the `:`); empty when the string has none. */
  readonly exit: SignalStep[];
}

export class SequenceSyntaxError extends HilError {
  static override readonly category: ErrorCategory = "infrastructure";
  override name = "SequenceSyntaxError";
}

/** @throws {SequenceSyntaxError} naming the character position and what was there. */
export function parseStm32flashSequence(text: string): Stm32flashSequence {
  const colon = text.indexOf(":");
  if (colon >= 0 && text.indexOf(":", colon + 1) >= 0)
    throw new SequenceSyntaxError(`${JSON.stringify(text)}: more than one ':' (entry:exit)`);
  const entry = colon >= 0 ? text.slice(0, colon) : text;
  const exit = colon >= 0 ? text.slice(colon + 1) : "";
  return { bootloader: parsePart(text, entry, 0), exit: parsePart(text, exit, colon + 1) };
}

function parsePart(whole: string, part: string, offset: number): SignalStep[] {
  const steps: { dtr?: boolean; rts?: boolean; waitMs?: number }[] = [];
  const fail = (at: number, what: string) =>
    new SequenceSyntaxError(`${JSON.stringify(whole)} at character ${offset + at + 1}: ${what}`);
  let i = 0;
  while (i < part.length) {
    const c = part[i]!;
    if (c === ",") {
      // The wait follows the signal set before it (or leads the part when none was).
      const last = steps.at(-1);
      if (last) last.waitMs = (last.waitMs ?? 0) + STM32FLASH_DELAY_MS;
      else steps.push({ waitMs: STM32FLASH_DELAY_MS });
      i++;
      continue;
    }
    if (c === "&") {
      i++;
      continue;
    }
    const level = c !== "-";
    const at = level ? i : i + 1;
    const name = part.slice(at, at + 3);
    if (name === "rts" || name === "dtr") {
      steps.push({ [name]: level });
      i = at + 3;
      continue;
    }
    if (name === "brk" || /^\d/.test(name))
      throw fail(
        at,
        `'${name === "brk" ? "brk" : /^\d+/.exec(part.slice(at))![0]}' is not a modem line: the dtr-rts backend drives rts and dtr only`,
      );
    if (at >= part.length || part[at] === "," || part[at] === "&") throw fail(i, "'-' without a signal");
    throw fail(at, `expected rts, dtr, ',' or '&', got '${part[at]}'`);
  }
  return steps;
}
