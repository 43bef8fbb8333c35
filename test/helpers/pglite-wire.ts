import { type Socket, createServer } from 'node:net';
import type { PGlite } from '@electric-sql/pglite';

/**
 * PGlite over the PostgreSQL wire protocol on 127.0.0.1: each client message goes through
 * execProtocolRaw, one at a time, as @electric-sql/pglite-socket does (no release of it pairs with
 * PGlite 0.5.16). PGlite is one session, so only one client may use it at a time (poolMax 1); a
 * client that disconnects mid-transaction has it rolled back, as a server would.
 */
export async function servePglite(pglite: PGlite) {
  type Item = { socket: Socket; message: Uint8Array } | { rollbackAfter: Socket };
  const queue: Item[] = [];
  const sockets = new Set<Socket>();
  let holding = false;
  let pumping = false;
  let closed = false;

  const pump = async () => {
    if (pumping) return;
    pumping = true;
    while (!holding && !closed && queue.length) {
      const item = queue.shift()!;
      try {
        if ('rollbackAfter' in item) {
          if (pglite.isInTransaction()) await pglite.exec('ROLLBACK');
        } else if (!item.socket.destroyed) {
          const out = await pglite.execProtocolRaw(item.message);
          if (out.length && !item.socket.destroyed) item.socket.write(out);
        }
      } catch {
        if ('socket' in item) item.socket.destroy(); // PGlite failed or closed: the client sees a lost connection
      }
    }
    pumping = false;
  };

  const server = createServer((socket) => {
    sockets.add(socket);
    let buffer = Buffer.alloc(0);
    let started = false;
    socket.on('error', () => socket.destroy());
    socket.on('close', () => {
      sockets.delete(socket);
      queue.push({ rollbackAfter: socket });
      void pump();
    });
    socket.on('data', (chunk) => {
      buffer = Buffer.concat([buffer, chunk]);
      for (;;) {
        // The startup packet has no type byte: int32 length, int32 code. Later ones: byte, int32 length.
        if (buffer.length < (started ? 5 : 8)) break;
        const length = started ? 1 + buffer.readInt32BE(1) : buffer.readInt32BE(0);
        if (buffer.length < length) break;
        const message = Uint8Array.from(buffer.subarray(0, length));
        buffer = buffer.subarray(length);
        if (!started && buffer.length === 0 && length === 8 && Buffer.from(message).readInt32BE(4) === 80877103) {
          socket.write('N'); // SSLRequest: no TLS here
          continue;
        }
        started = true;
        queue.push({ socket, message });
      }
      void pump();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as { port: number }).port,
    get held() {
      return holding ? queue.filter((i) => 'socket' in i && !i.socket.destroyed).length : 0;
    },
    hold() {
      holding = true;
    },
    release() {
      holding = false;
      void pump();
    },
    close() {
      closed = true;
      for (const s of sockets) s.destroy();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
