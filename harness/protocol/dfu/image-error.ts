import { type ErrorCategory, HilError } from "../../seams/errors.js";

/** A firmware file refused before any transfer: names the file, the field and the byte offset (or line). */
export class ImageFileError extends HilError {
  static override readonly category: ErrorCategory = "usage";
  override name = "ImageFileError";
  constructor(
    readonly file: string,
    readonly field: string,
    readonly offset: number | undefined,
    detail: string,
    readonly line?: number,
  ) {
    const where =
      line !== undefined
        ? `line ${line}`
        : offset !== undefined
          ? `offset ${offset} (0x${offset.toString(16)})`
          : "";
    super(`${file}: ${field}${where ? ` at ${where}` : ""}: ${detail}`);
  }
}
