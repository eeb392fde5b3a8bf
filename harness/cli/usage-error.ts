/** A bad flag or file: printed as one line, exit code 2. The class lives in the error tree's root. */
export { UsageError } from "../seams/errors.js";
