/**
 * A small client of etcd v3's HTTP/JSON gateway (`POST /v3/<service>/<call>`, keys and
 * values base64, int64 fields as decimal strings): what board leases need and no more.
 *
 * It speaks through node:http/node:https rather than fetch: fetch cannot present a TLS
 * client certificate without the undici package, and one code path serves both. Endpoints
 * are tried in order until one answers; every request has a timeout. With a user, the
 * password comes from an environment variable and is traded for a token at
 * /v3/auth/authenticate (sent as the `Authorization` header, renewed when etcd refuses it);
 * neither password nor token ever goes into a message.
 */
import { readFileSync } from "node:fs";
import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";
import { InfrastructureError, UsageError } from "../seams/errors.js";

export interface EtcdTls {
  /** PEM file of the CA that signed etcd's server certificate. */
  readonly ca?: string | undefined;
  /** PEM files of this client's certificate and key (etcd `--client-cert-auth`). */
  readonly cert?: string | undefined;
  readonly key?: string | undefined;
}

export interface EtcdAuth {
  readonly user: string;
  /** Name of the environment variable holding the password (never the password itself). */
  readonly passwordEnv: string;
}

export interface EtcdGatewayOptions {
  /** `http://host:2379` or `https://host:2379`, tried in order. */
  readonly endpoints: readonly string[];
  readonly tls?: EtcdTls | undefined;
  readonly auth?: EtcdAuth | undefined;
  /** Per request (default 3000 ms). */
  readonly timeoutMs?: number | undefined;
  /** Where secrets are read (default process.env). */
  readonly env?: NodeJS.ProcessEnv | undefined;
}

/** A key-value as the gateway returns it, decoded. */
export interface EtcdKv {
  readonly key: string;
  readonly value: string;
  /** The lease id (decimal string), "0" when none. */
  readonly lease: string;
  readonly createRevision: string;
}

/** etcd answered with a gRPC error (`{"error", "code"}`): lease not found, permission denied, ... */
export class EtcdCallError extends InfrastructureError {
  constructor(
    readonly call: string,
    readonly code: number,
    message: string,
  ) {
    super(`etcd ${call}: ${message} (code ${code})`, { source: "etcd" });
    this.name = "EtcdCallError";
  }
}

const INVALID_AUTH_TOKEN = /invalid auth token/;

export const b64 = (text: string): string => Buffer.from(text, "utf8").toString("base64");
export const unb64 = (text: string | undefined): string => Buffer.from(text ?? "", "base64").toString("utf8");

export class EtcdGateway {
  readonly endpoints: readonly string[];
  readonly #timeoutMs: number;
  readonly #tls: { ca?: Buffer; cert?: Buffer; key?: Buffer };
  readonly #auth: EtcdAuth | undefined;
  readonly #env: NodeJS.ProcessEnv;
  #token: string | undefined;

  constructor(opts: EtcdGatewayOptions) {
    if (opts.endpoints.length === 0) throw new UsageError("etcd: no endpoints");
    // No user:password@ in a URL: it would show in every message naming the endpoint.
    for (const e of opts.endpoints)
      if (!/^https?:\/\/[^/@\s]+\/?$/.test(e))
        throw new UsageError(
          `etcd endpoint ${JSON.stringify(e)}: expected http://host:port or https://host:port`,
        );
    this.endpoints = opts.endpoints.map((e) => e.replace(/\/$/, ""));
    this.#timeoutMs = opts.timeoutMs ?? 3000;
    this.#auth = opts.auth;
    this.#env = opts.env ?? process.env;
    const read = (what: string, path: string | undefined) => {
      if (path === undefined) return undefined;
      try {
        return readFileSync(path);
      } catch (e) {
        throw new UsageError(`etcd tls.${what}: cannot read ${path}: ${(e as Error).message}`);
      }
    };
    const tls = opts.tls ?? {};
    this.#tls = Object.fromEntries(
      (["ca", "cert", "key"] as const).flatMap((k) => {
        const v = read(k, tls[k]);
        return v === undefined ? [] : [[k, v]];
      }),
    );
  }

  /** One gateway call, e.g. `call("lease/grant", { TTL: "15" })`; the JSON answer. */
  async call<T = Record<string, unknown>>(path: string, body: unknown): Promise<T> {
    if (this.#auth && this.#token === undefined) await this.#authenticate();
    try {
      return await this.#callAny<T>(path, body);
    } catch (e) {
      // A token etcd no longer knows (etcd restarted, token TTL): once more with a new one.
      if (this.#auth && e instanceof EtcdCallError && INVALID_AUTH_TOKEN.test(e.message)) {
        await this.#authenticate();
        return this.#callAny<T>(path, body);
      }
      throw e;
    }
  }

  async #authenticate(): Promise<void> {
    const auth = this.#auth!;
    const password = this.#env[auth.passwordEnv];
    if (password === undefined)
      throw new UsageError(`etcd user ${auth.user}: the environment variable ${auth.passwordEnv} is not set`);
    this.#token = undefined;
    const answer = await this.#callAny<{ token?: string }>("auth/authenticate", {
      name: auth.user,
      password,
    });
    if (!answer.token)
      throw new InfrastructureError(`etcd auth/authenticate as ${auth.user}: no token in the answer`);
    this.#token = answer.token;
  }

  async #callAny<T>(path: string, body: unknown): Promise<T> {
    const failures: string[] = [];
    for (const endpoint of this.endpoints) {
      try {
        return await this.#post<T>(endpoint, path, body);
      } catch (e) {
        if (e instanceof EtcdCallError) throw e; // etcd answered: another member says the same
        failures.push(`${endpoint}: ${(e as Error).message}`);
      }
    }
    throw new InfrastructureError(`etcd ${path}: no endpoint answered (${failures.join("; ")})`, {
      source: "etcd",
    });
  }

  #post<T>(endpoint: string, path: string, body: unknown): Promise<T> {
    const url = new URL(`${endpoint}/v3/${path}`);
    const payload = JSON.stringify(body);
    const headers: Record<string, string | number> = {
      "content-type": "application/json",
      "content-length": Buffer.byteLength(payload),
    };
    if (this.#token !== undefined && path !== "auth/authenticate") headers.authorization = this.#token;
    const request = url.protocol === "https:" ? httpsRequest : httpRequest;
    return new Promise<T>((resolve, reject) => {
      const req = request(url, { method: "POST", headers, ...this.#tls, timeout: this.#timeoutMs }, (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("error", reject);
        res.on("end", () => {
          const text = Buffer.concat(chunks).toString("utf8");
          let json: Record<string, unknown>;
          try {
            json = JSON.parse(text) as Record<string, unknown>;
          } catch {
            reject(new Error(`HTTP ${res.statusCode}: not JSON: ${text.slice(0, 200)}`));
            return;
          }
          // Streaming calls (lease/keepalive) wrap their one answer in `result`.
          const inner = (json.result ?? json) as Record<string, unknown>;
          const error = (json.error ?? inner.error) as { message?: string } | string | undefined;
          if (error !== undefined) {
            const message = typeof error === "string" ? error : (error.message ?? JSON.stringify(error));
            const code = Number(json.code ?? (error as { grpc_code?: number }).grpc_code ?? 0);
            reject(new EtcdCallError(path, code, message));
            return;
          }
          resolve(inner as T);
        });
      });
      req.on("timeout", () => req.destroy(new Error(`no answer within ${this.#timeoutMs} ms`)));
      req.on("error", reject);
      req.end(payload);
    });
  }

  /** Every key under `prefix`, decoded. */
  async rangePrefix(prefix: string): Promise<EtcdKv[]> {
    const answer = await this.call<{ kvs?: RawKv[] }>("kv/range", {
      key: b64(prefix),
      range_end: prefixEnd(prefix).toString("base64"),
    });
    return (answer.kvs ?? []).map(decodeKv);
  }

  async get(key: string): Promise<EtcdKv | undefined> {
    const answer = await this.call<{ kvs?: RawKv[] }>("kv/range", { key: b64(key) });
    const kv = answer.kvs?.[0];
    return kv ? decodeKv(kv) : undefined;
  }

  /** Seconds the lease has left; undefined when etcd no longer has it (expired or revoked). */
  async timeToLive(lease: string): Promise<number | undefined> {
    const answer = await this.call<{ TTL?: string }>("lease/timetolive", { ID: lease });
    const ttl = Number(answer.TTL ?? -1);
    return ttl > 0 ? ttl : undefined;
  }
}

interface RawKv {
  key: string;
  value?: string;
  lease?: string;
  create_revision?: string;
}

function decodeKv(kv: RawKv): EtcdKv {
  return {
    key: unb64(kv.key),
    value: unb64(kv.value),
    lease: kv.lease ?? "0",
    createRevision: kv.create_revision ?? "0",
  };
}

/** The range end that selects every key starting with `prefix` (its last byte plus one). */
export function prefixEnd(prefix: string): Buffer {
  const bytes = Buffer.from(prefix, "utf8");
  for (let i = bytes.length - 1; i >= 0; i--) {
    if (bytes[i]! < 0xff) {
      const end = Buffer.from(bytes.subarray(0, i + 1));
      end[i] = end[i]! + 1;
      return end;
    }
  }
  return Buffer.from([0]); // every key
}
