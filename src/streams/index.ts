/**
 * asyncio's streams: connections and servers over TCP, unix sockets and TLS, with readers and
 * writers whose every wait is a cancellation point.
 * @module
 */
export { IncompleteReadError, LimitOverrunError } from "./errors.js";
export { StreamReader, type ReadOptions, type StreamReaderOptions, type Separator } from "./reader.js";
export { StreamWriter, type StartTlsOptions } from "./writer.js";
export {
  openConnection,
  openUnixConnection,
  startServer,
  startUnixServer,
  Server,
  type ConnectOptions,
  type OpenConnectionOptions,
  type ConnectionHandler,
  type ServeOptions,
  type StartServerOptions,
} from "./net.js";
export type { SslOption } from "./tls.js";
