/**
 * TLS options as tsaio's streams take them (`{ ssl }`), turned into what `node:tls` wants.
 * Internal: not part of the package's public API.
 * @module
 */
import tls from "node:tls";
import { describe } from "../internal/validate.js";

/**
 * The `ssl` option: `true` (Node's default context: system CAs, server certificate checked), a
 * `tls.SecureContext` (from `tls.createSecureContext()`), or the options `node:tls` takes
 * (`key`, `cert`, `ca`, `rejectUnauthorized`, `ALPNProtocols`, `requestCert`…).
 */
export type SslOption = true | tls.SecureContext | (tls.SecureContextOptions & tls.CommonConnectionOptions);

/** A normalized `ssl` option: the secure context and the connection options beside it. */
export interface Ssl {
  context: tls.SecureContext;
  options: tls.CommonConnectionOptions;
}

function isSecureContext(v: object): v is tls.SecureContext {
  // tls.createSecureContext() returns an object holding the native context in `context`.
  return "context" in v && typeof (v as { context: unknown }).context === "object" && Object.keys(v).length <= 2;
}

const CONNECTION_KEYS = [
  "enableTrace",
  "requestCert",
  "ALPNProtocols",
  "SNICallback",
  "rejectUnauthorized",
  "checkServerIdentity",
  "session",
  "minDHSize",
  "highWaterMark",
  "lookup",
  "timeout",
  "pskCallback",
] as const;

/** @internal Checks and normalizes the `ssl` option of `fnName`; undefined/false/null: no TLS. */
export function sslOf(ssl: unknown, fnName: string): Ssl | null {
  if (ssl === undefined || ssl === null || ssl === false) return null;
  if (ssl === true) return { context: tls.createSecureContext(), options: {} };
  if (typeof ssl !== "object") {
    throw new TypeError(`${fnName}: \`ssl\` must be true, a tls.SecureContext or tls options (key, cert, ca…), got ${describe(ssl)}`);
  }
  if (isSecureContext(ssl)) return { context: ssl, options: {} };
  const o = ssl as tls.SecureContextOptions & tls.CommonConnectionOptions & Record<string, unknown>;
  const options: Record<string, unknown> = {};
  for (const k of CONNECTION_KEYS) if (o[k] !== undefined) options[k] = o[k];
  return { context: tls.createSecureContext(o), options: options as tls.CommonConnectionOptions };
}

/** The error a handshake that takes too long ends with (asyncio's ConnectionAbortedError). */
export function handshakeTimeoutError(ms: number): Error {
  const e: NodeJS.ErrnoException = new Error(`TLS handshake is taking longer than ${ms} ms: aborting the connection`);
  e.name = "ConnectionAbortedError";
  e.code = "ECONNABORTED";
  return e;
}
