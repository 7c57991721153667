"""The echo benchmark's CPython side: asyncio's streams, the way asyncio's docs write an echo server.
Prints "PORT <n>" and serves on 127.0.0.1 until stdin closes."""
import asyncio
import sys


async def echo(reader, writer):
    while line := await reader.readline():
        writer.write(line)
        await writer.drain()
    writer.close()


async def main():
    server = await asyncio.start_server(echo, "127.0.0.1", 0, backlog=511)
    print("PORT", server.sockets[0].getsockname()[1], flush=True)
    async with server:
        await asyncio.to_thread(sys.stdin.read)


asyncio.run(main())
