/**
 * A chat server on tsaio's streams: every line a member sends goes to everyone else.
 *
 *   npx tsx examples/chat/server.ts [--port 8888]      then, in other terminals:
 *   npx tsx examples/chat/client.ts [--port 8888]      (or `nc 127.0.0.1 8888`)
 *
 * Commands: /nick <name>, /who, /quit. Ctrl-C stops the server: serveForever() is cancelled, which
 * cancels every connection's handler, waits for them, and closes the connections.
 *
 * A slow client does not stall the others: each member has its own bounded outbox and a sender task
 * that writes it out with `await timeout(sendTimeout, () => writer.drain())`. A member whose outbox
 * fills up, or whose socket has not drained within `sendTimeout`, is disconnected; the broadcast
 * itself never waits.
 */
import type { AddressInfo } from "node:net";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import {
  Queue,
  QueueFull,
  run,
  type Server,
  startServer,
  type StreamReader,
  type StreamWriter,
  taskGroup,
  timeout,
  TimeoutError,
} from "../../src/index.js";

/** Options of {@link startChatServer}. */
export interface ChatOptions {
  /** Default "127.0.0.1". */
  host?: string;
  /** Default 0 (any free port). */
  port?: number;
  /** How long a member's socket may take to drain before the member is dropped, in ms. Default 5 000. */
  sendTimeout?: number;
  /** How many messages may wait for a member before it is dropped. Default 1 000. */
  outboxSize?: number;
  /** Where the server logs joins and leaves. Default: nowhere. */
  log?: (line: string) => void;
}

const NICK = /^[A-Za-z0-9_-]{1,20}$/;

/** A connected member: its outbox, drained to its socket by its sender task. */
class Member {
  readonly outbox: Queue<string>;
  dropped: string | null = null;

  constructor(
    public nick: string,
    readonly writer: StreamWriter,
    outboxSize: number,
  ) {
    this.outbox = new Queue<string>(outboxSize);
  }
}

/**
 * Starts the chat server and returns the tsaio `Server` (use `serveForever()`, or `await using`).
 * @example
 * ```ts
 * import { openConnection, run } from "tsaio";
 * import { startChatServer } from "./examples/chat/server.js";
 * await run(async () => {
 *   await using server = await startChatServer({ log: console.log }); // port 0: any free port
 *   const { port } = server.sockets[0]!.address() as { port: number };
 *   const [reader, writer] = await openConnection("127.0.0.1", port);
 *   console.log((await reader.readline()).toString().trim()); // Welcome to tsaio chat! Your nickname?
 *   writer.write("ada\n");
 *   console.log((await reader.readline()).toString().trim()); // Hello ada! 0 other(s) here. …
 *   writer.close();
 * });
 * ```
 */
export async function startChatServer(options: ChatOptions = {}): Promise<Server> {
  const sendTimeout = options.sendTimeout ?? 5_000;
  const outboxSize = options.outboxSize ?? 1_000;
  const log = options.log ?? (() => {});
  const members = new Map<string, Member>();

  /** Queues `text` for everyone but `from`; never waits. A member whose outbox is full is dropped. */
  function broadcast(text: string, from: Member | null): void {
    for (const m of [...members.values()]) {
      if (m === from) continue;
      try {
        m.outbox.putNowait(text);
      } catch (e) {
        if (!(e instanceof QueueFull)) throw e;
        drop(m, `more than ${outboxSize} messages behind`);
      }
    }
  }

  function drop(m: Member, why: string): void {
    if (m.dropped !== null) return;
    m.dropped = why;
    members.delete(m.nick);
    m.outbox.shutdown(true);
    m.writer.abort(); // its socket does not drain: drop what is buffered; its reader sees EOF
    log(`${m.nick} dropped: ${why}`);
    broadcast(`* ${m.nick} was disconnected (${why})`, null);
  }

  /** The member's sender: writes its outbox out; a socket that will not drain gets it dropped. */
  async function sender(m: Member): Promise<void> {
    for await (const text of m.outbox) {
      m.writer.write(text + "\n");
      try {
        await timeout(sendTimeout, () => m.writer.drain());
      } catch (e) {
        if (e instanceof TimeoutError) drop(m, `did not read for ${sendTimeout} ms`);
        else drop(m, "connection lost");
        return;
      }
    }
  }

  async function askNick(reader: StreamReader, writer: StreamWriter): Promise<string | null> {
    writer.write("Welcome to tsaio chat! Your nickname?\n");
    for (;;) {
      const line = await reader.readline();
      if (line.length === 0) return null; // left before choosing one
      const nick = line.toString().trim();
      if (!NICK.test(nick)) writer.write("A nickname is 1 to 20 letters, digits, _ or -. Try again:\n");
      else if (members.has(nick)) writer.write(`${nick} is taken. Try again:\n`);
      else return nick;
    }
  }

  async function handle(reader: StreamReader, writer: StreamWriter): Promise<void> {
    try {
      const nick = await askNick(reader, writer);
      if (nick === null) return;
      const me = new Member(nick, writer, outboxSize);
      members.set(nick, me);
      log(`${nick} joined`);
      await taskGroup(async (tg) => {
        void tg.createTask(() => sender(me), { name: `sender ${nick}` });
        me.outbox.putNowait(`Hello ${nick}! ${members.size - 1} other(s) here. Commands: /nick <name>, /who, /quit`);
        broadcast(`* ${nick} joined`, me);
        try {
          for await (const raw of reader) {
            const line = raw.toString().trimEnd();
            if (line === "/quit") break;
            if (line === "/who") me.outbox.putNowait(`* here: ${[...members.keys()].sort().join(", ")}`);
            else if (line.startsWith("/nick ")) {
              const next = line.slice(6).trim();
              if (!NICK.test(next) || members.has(next)) me.outbox.putNowait(`* cannot take the nickname ${next}`);
              else {
                const old = me.nick;
                members.delete(old);
                me.nick = next;
                members.set(next, me);
                broadcast(`* ${old} is now ${next}`, null);
              }
            } else if (line !== "") broadcast(`<${me.nick}> ${line}`, me);
          }
        } finally {
          // Leaving (EOF, /quit, dropped, or cancelled by the server's shutdown).
          if (me.dropped === null) {
            members.delete(me.nick);
            me.outbox.shutdown(); // the sender writes what is queued, then ends
            broadcast(`* ${me.nick} left`, null);
            log(`${me.nick} left`);
          }
        }
      });
    } finally {
      writer.close();
    }
  }

  return startServer(handle, options.host ?? "127.0.0.1", options.port ?? 0);
}

// ----------------------------------------------------------------------------------- main

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { values } = parseArgs({ options: { host: { type: "string", default: "127.0.0.1" }, port: { type: "string", default: "8888" } } });
  await run(async () => {
    const server = await startChatServer({ host: values.host, port: Number(values.port), log: (l) => console.log(l) });
    console.log(`chat server on ${values.host}:${(server.sockets[0]!.address() as AddressInfo).port}; Ctrl-C stops it`);
    await server.serveForever(); // Ctrl-C cancels it: every connection is closed before run() exits
  });
}
