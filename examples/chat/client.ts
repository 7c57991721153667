/**
 * A chat client: lines typed go to the server, lines from the server are printed.
 *
 *   npx tsx examples/chat/client.ts [--host 127.0.0.1] [--port 8888]
 *
 * A task group: a child task copies the server's lines to the screen while the body sends what is
 * typed. When the server closes the connection the child cancels the group (`tg.cancel()`), which
 * stops the wait for input; Ctrl-C cancels both through run().
 */
import { createInterface } from "node:readline";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { cancellable, openConnection, run, taskGroup } from "../../src/index.js";

/** Options of {@link chatClient}. */
export interface ClientOptions {
  host: string;
  port: number;
  /** The lines to send (e.g. the terminal's). */
  input: AsyncIterable<string>;
  /** Where the server's lines go. */
  output: (line: string) => void;
}

/**
 * Talks to the chat server until it closes the connection or `input` ends (then it sends /quit
 * and reads what is left).
 * @example
 * ```ts
 * import { run } from "tsaio";
 * import { chatClient } from "./examples/chat/client.js";
 * import { startChatServer } from "./examples/chat/server.js";
 * async function* lines() { yield "ada"; yield "/who"; }
 * await run(async () => {
 *   await using server = await startChatServer();
 *   const { port } = server.sockets[0]!.address() as { port: number };
 *   await chatClient({ host: "127.0.0.1", port, input: lines(), output: console.log }); // … "* here: ada"
 * });
 * ```
 */
export async function chatClient(options: ClientOptions): Promise<void> {
  const [reader, writer] = await openConnection(options.host, options.port);
  try {
    await taskGroup(async (tg) => {
      const printer = tg.createTask(async () => {
        for await (const line of reader) options.output(line.toString().trimEnd());
        tg.cancel(); // the server closed the connection: stop waiting for input (3.15's TaskGroup.cancel)
      });
      const it = options.input[Symbol.asyncIterator]();
      for (;;) {
        // The terminal is a foreign promise: cancellable() lets tg.cancel() and Ctrl-C interrupt the wait.
        const next = await cancellable(it.next());
        if (next.done === true) break;
        writer.write(next.value + "\n");
        await writer.drain();
      }
      writer.write("/quit\n");
      await printer; // the server answers /quit by closing: print what is left
    });
  } finally {
    writer.close();
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { values } = parseArgs({ options: { host: { type: "string", default: "127.0.0.1" }, port: { type: "string", default: "8888" } } });
  const rl = createInterface({ input: process.stdin });
  // Iterate from the start: readline drops the lines it emits before anyone iterates.
  const typed = rl[Symbol.asyncIterator]();
  await run(() => chatClient({ host: values.host, port: Number(values.port), input: { [Symbol.asyncIterator]: () => typed }, output: (l) => console.log(l) }));
  rl.close();
}
