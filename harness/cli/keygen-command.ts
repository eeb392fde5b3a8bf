import { writeFile } from "node:fs/promises";
import { generateKey, KEY_TYPES, type KeyType, privateKeyPem } from "../protocol/mcuboot/index.js";
import { UsageError } from "./usage-error.js";

export const KEYGEN_OPTIONS = {
  key: { type: "string", short: "k" },
  type: { type: "string", short: "t" },
} as const;

/** `hil keygen -t ecdsa-p256|ed25519 -k FILE`: a PKCS#8 PEM private key, as imgtool keygen. */
export async function runKeygen(opts: {
  key?: string | undefined;
  type?: string | undefined;
}): Promise<number> {
  if (!opts.key) throw new UsageError("keygen: -k FILE is required");
  const type = opts.type as KeyType | undefined;
  if (!type || !KEY_TYPES.includes(type))
    throw new UsageError(
      `keygen: -t must be one of ${KEY_TYPES.join(", ")}${opts.type ? `, not '${opts.type}'` : ""}`,
    );
  // wx: never overwrite a key someone may depend on (losing it locks devices out).
  await writeFile(opts.key, privateKeyPem(generateKey(type)), { flag: "wx", mode: 0o600 });
  console.log(`written ${type} private key to ${opts.key}`);
  return 0;
}
