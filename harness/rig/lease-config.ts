/**
 * Which lease backend a run uses: HIL_LEASE_ETCD (comma-separated endpoints) when set, else
 * the rig file's `leases`, else lock files on this host (HIL_LEASE_DIR). With
 * HIL_LEASE_ETCD, the rest comes from HIL_LEASE_ETCD_PREFIX, HIL_LEASE_ETCD_TTL_S,
 * HIL_LEASE_ETCD_USER (password in HIL_LEASE_ETCD_PASSWORD) and HIL_LEASE_ETCD_CA / _CERT /
 * _KEY (PEM file paths).
 */
import type { LeaseBackendConfig } from "../lab/board-lease.js";
import { UsageError } from "../seams/errors.js";
import type { RigFile } from "./schema.js";
import { LeasesSchema } from "./schema.js";

export const LEASE_ETCD_ENV = "HIL_LEASE_ETCD";

export function leaseConfigOf(
  rig: Pick<RigFile, "leases"> | undefined,
  env: NodeJS.ProcessEnv = process.env,
): LeaseBackendConfig {
  const endpoints = env[LEASE_ETCD_ENV];
  if (endpoints) return fromEnv(endpoints, env);
  const spec = rig?.leases;
  if (spec?.backend === "etcd") return spec;
  return { backend: "file", dir: spec?.dir ?? env.HIL_LEASE_DIR };
}

function fromEnv(endpoints: string, env: NodeJS.ProcessEnv): LeaseBackendConfig {
  const tls = { ca: env.HIL_LEASE_ETCD_CA, cert: env.HIL_LEASE_ETCD_CERT, key: env.HIL_LEASE_ETCD_KEY };
  const parsed = LeasesSchema.safeParse({
    backend: "etcd",
    endpoints: endpoints.split(",").map((e) => e.trim()),
    ...(env.HIL_LEASE_ETCD_PREFIX ? { prefix: env.HIL_LEASE_ETCD_PREFIX } : {}),
    ...(env.HIL_LEASE_ETCD_TTL_S ? { ttlS: Number(env.HIL_LEASE_ETCD_TTL_S) } : {}),
    ...(tls.ca || tls.cert || tls.key
      ? { tls: Object.fromEntries(Object.entries(tls).filter(([, v]) => v)) }
      : {}),
    ...(env.HIL_LEASE_ETCD_USER
      ? { auth: { user: env.HIL_LEASE_ETCD_USER, passwordEnv: "HIL_LEASE_ETCD_PASSWORD" } }
      : {}),
  });
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new UsageError(`${LEASE_ETCD_ENV}: ${issue.path.join(".")}: ${issue.message}`);
  }
  return parsed.data as LeaseBackendConfig;
}
