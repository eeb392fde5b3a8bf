import { readFile, writeFile } from "node:fs/promises";
import {
  isPrivate,
  McubootKeyError,
  parsePemKey,
  parseVersion,
  signImage,
} from "../protocol/mcuboot/index.js";
import { UsageError } from "./usage-error.js";

export const SIGN_OPTIONS = {
  key: { type: "string", short: "k" },
  version: { type: "string", short: "v" },
  "header-size": { type: "string", short: "H" },
  "slot-size": { type: "string", short: "S" },
  "pad-header": { type: "boolean" },
  align: { type: "string" },
  "max-align": { type: "string" },
  pad: { type: "boolean" },
  confirm: { type: "boolean" },
  "pad-sig": { type: "boolean" },
  "public-key-format": { type: "string" },
  pure: { type: "boolean" },
  "load-addr": { type: "string", short: "L" },
  "security-counter": { type: "string", short: "s" },
  dependencies: { type: "string", short: "d" },
  "overwrite-only": { type: "boolean" },
  "erased-val": { type: "string", short: "R" },
} as const;

export interface SignArgs {
  key?: string | undefined;
  version?: string | undefined;
  "header-size"?: string | undefined;
  "slot-size"?: string | undefined;
  "pad-header"?: boolean | undefined;
  align?: string | undefined;
  "max-align"?: string | undefined;
  pad?: boolean | undefined;
  confirm?: boolean | undefined;
  "pad-sig"?: boolean | undefined;
  "public-key-format"?: string | undefined;
  pure?: boolean | undefined;
  "load-addr"?: string | undefined;
  "security-counter"?: string | undefined;
  dependencies?: string | undefined;
  "overwrite-only"?: boolean | undefined;
  "erased-val"?: string | undefined;
}

/** `hil sign -k KEY --version X.Y.Z[+B] -H SIZE -S SIZE [options] INFILE OUTFILE`, as imgtool sign. */
export async function runSign(opts: SignArgs, positionals: string[]): Promise<number> {
  const [input, output] = positionals;
  if (!input || !output || positionals.length !== 2) throw new UsageError("sign: give INFILE and OUTFILE");
  for (const required of ["key", "version", "header-size", "slot-size"] as const)
    if (opts[required] === undefined) throw new UsageError(`sign: --${required} is required (as in imgtool)`);
  const key = await loadSigningKey(opts.key!);
  const format = opts["public-key-format"] ?? "hash";
  if (format !== "hash" && format !== "full")
    throw new UsageError(`sign: --public-key-format must be hash or full, not '${format}'`);
  let version: ReturnType<typeof parseVersion>;
  try {
    version = parseVersion(opts.version!);
  } catch (e) {
    throw new UsageError(`sign: ${(e as Error).message}`);
  }
  const erased = opts["erased-val"];
  if (erased !== undefined && erased !== "0" && erased !== "0xff")
    throw new UsageError(`sign: --erased-val must be 0 or 0xff (as in imgtool), not '${erased}'`);
  const counter = opts["security-counter"];
  const dependencies = opts.dependencies === undefined ? undefined : parseDependencies(opts.dependencies);
  const data = new Uint8Array(await readFile(input));
  let signed: Uint8Array;
  try {
    signed = signImage(data, {
      key,
      version,
      headerSize: int(opts["header-size"]!, "header-size"),
      slotSize: int(opts["slot-size"]!, "slot-size"),
      padHeader: !!opts["pad-header"],
      align: opt(opts.align, "align"),
      maxAlign: opt(opts["max-align"], "max-align"),
      pad: !!opts.pad,
      confirm: !!opts.confirm,
      padSig: !!opts["pad-sig"],
      publicKeyFormat: format,
      pure: !!opts.pure,
      loadAddr: opt(opts["load-addr"], "load-addr"),
      securityCounter: counter?.toLowerCase() === "auto" ? "auto" : opt(counter, "security-counter"),
      dependencies,
      overwriteOnly: !!opts["overwrite-only"],
      erasedValue: erased === undefined ? undefined : Number(erased),
    });
  } catch (e) {
    if (e instanceof RangeError) throw new UsageError(`sign: ${e.message}`);
    throw e;
  }
  await writeFile(output, signed);
  console.log(`signed ${input} -> ${output}: ${signed.length} bytes, ${key.type}, version ${opts.version}`);
  return 0;
}

/** Refuses, with the reason, a key file that is unreadable, not PEM, public-only or of an unsupported type. */
export async function loadSigningKey(path: string) {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (e) {
    throw new UsageError(
      `key ${path}: cannot read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
    );
  }
  try {
    const key = parsePemKey(text, `key ${path}`);
    if (!isPrivate(key)) throw new UsageError(`key ${path}: is a public key; signing needs the private key`);
    return key;
  } catch (e) {
    if (e instanceof McubootKeyError) throw new UsageError(e.message);
    throw e;
  }
}

/** imgtool `-d "(ID, X.Y.Z+B), (ID, X.Y.Z+B)"`: each image id with the version it needs. */
export function parseDependencies(text: string) {
  const entries = [...text.matchAll(/\(\s*([^,()]*?)\s*,\s*([^()]*?)\s*\)/g)];
  if (entries.length === 0 || text.replace(/\([^()]*\)|[\s,]/g, "") !== "")
    throw new UsageError(`sign: --dependencies '${text}' is not "(ID, X.Y.Z[+B]), ..."`);
  return entries.map(([, id, version]) => {
    if (!/^\d+$/.test(id!) || Number(id) > 0xff)
      throw new UsageError(`sign: --dependencies: image id '${id}' must be 0..255`);
    try {
      return { imageId: Number(id), version: parseVersion(version!) };
    } catch (e) {
      throw new UsageError(`sign: --dependencies: ${(e as Error).message}`);
    }
  });
}

function int(text: string, name: string): number {
  const n = Number(text);
  if (!/^(0x[0-9a-f]+|\d+)$/i.test(text) || !Number.isSafeInteger(n))
    throw new UsageError(`sign: --${name} '${text}' is not a number`);
  return n;
}

function opt(text: string | undefined, name: string): number | undefined {
  return text === undefined ? undefined : int(text, name);
}
