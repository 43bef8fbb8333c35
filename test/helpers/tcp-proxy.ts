import { type Server, type Socket, connect, createServer } from 'node:net';

// A TCP proxy on 127.0.0.1 in front of a database, for fault tests. stop() makes the database look
// gone the way a crashed or unplugged server does — new connections are refused and every open
// connection is cut mid-stream — and start() brings it back on the same port, so a client pool
// pointed at the proxy has to notice the outage and recover by itself. setDelay() makes it slow
// instead of gone — a congested link or a database host stalling — switchable while traffic flows.

/**
 * Latency the proxy adds. 'chunk': every chunk of data, either way, is held `ms` before it is passed
 * on (order kept), so a query's round trip costs 2 × ms and a new connection's handshake several.
 * 'connect': each new connection waits `ms` before the proxy dials the database (its first bytes
 * wait with it); connections already open are not slowed.
 */
export interface ProxyDelay {
  ms: number;
  per: 'chunk' | 'connect';
}

export interface TcpProxy {
  /** the port clients connect to; the same across stop() and start() */
  readonly port: number;
  /** client↔target connection pairs currently open */
  readonly openPairs: number;
  readonly listening: boolean;
  /** closes the listener and destroys every open socket pair */
  stop(): Promise<void>;
  /** listens again on the same port */
  start(): Promise<void>;
  /** from now on, adds this latency; `{ ms: 0 }` (or no argument) removes it, releasing held data at its due time */
  setDelay(delay?: { ms: number; per?: ProxyDelay['per'] }): void;
  /** chunks and connections the current and past delays actually held: proof a delayed phase was delayed */
  readonly delayed: { chunks: number; connections: number };
}

export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  const pairs = new Set<{ client: Socket; upstream: Socket }>();
  let server: Server | undefined;
  let port = 0;
  let delay: ProxyDelay = { ms: 0, per: 'chunk' };
  const delayed = { chunks: 0, connections: 0 };

  /** from → to, each chunk held the chunk delay in force when it arrived; order is kept */
  const forward = (from: Socket, to: Socket) => {
    const queue: { chunk: Buffer; due: number }[] = [];
    let timer: NodeJS.Timeout | undefined;
    const flush = () => {
      timer = undefined;
      const now = Date.now();
      while (queue.length && queue[0]!.due <= now) {
        if (!to.destroyed) to.write(queue.shift()!.chunk);
        else queue.length = 0;
      }
      if (queue.length) timer = setTimeout(flush, queue[0]!.due - now);
    };
    from.on('data', (chunk: Buffer) => {
      const ms = delay.per === 'chunk' ? delay.ms : 0;
      if (ms === 0 && queue.length === 0) {
        // undelayed: plain streaming with backpressure, as pipe() does
        if (!to.write(chunk)) {
          from.pause();
          to.once('drain', () => from.resume());
        }
        return;
      }
      if (ms > 0) delayed.chunks++;
      queue.push({ chunk, due: Date.now() + ms });
      if (!timer) timer = setTimeout(flush, Math.max(0, queue[0]!.due - Date.now()));
    });
    from.on('close', () => clearTimeout(timer));
  };

  const onConnection = (client: Socket) => {
    const wait = delay.per === 'connect' ? delay.ms : 0;
    if (wait > 0) delayed.connections++;
    // the client's first bytes (the startup message) are kept until the upstream side exists
    client.pause();
    let upstream: Socket | undefined;
    const pair = { client, upstream: undefined as unknown as Socket };
    let ended = false;
    // Either side ending or failing ends both: a half-open pair would hide the outage from the client.
    const cut = () => {
      ended = true;
      pairs.delete(pair);
      client.destroy();
      upstream?.destroy();
    };
    client.on('error', cut);
    client.on('close', cut);
    const dial = () => {
      if (ended) return;
      upstream = connect({ host: target.host, port: target.port });
      pair.upstream = upstream;
      pairs.add(pair);
      upstream.on('error', cut);
      upstream.on('close', cut);
      forward(client, upstream);
      forward(upstream, client);
      client.resume();
    };
    if (wait > 0) {
      // a stop() meanwhile must cut this connection too: it is tracked from the start
      pair.upstream = client;
      pairs.add(pair);
      const timer = setTimeout(dial, wait);
      client.once('close', () => clearTimeout(timer));
    } else {
      dial();
    }
  };

  const listen = () =>
    new Promise<void>((resolve, reject) => {
      const s = createServer(onConnection);
      s.once('error', reject);
      s.listen(port, '127.0.0.1', () => {
        s.off('error', reject);
        port = (s.address() as { port: number }).port;
        server = s;
        resolve();
      });
    });

  await listen();

  return {
    get port() {
      return port;
    },
    get openPairs() {
      return pairs.size;
    },
    get listening() {
      return server !== undefined;
    },
    async stop() {
      const s = server;
      server = undefined;
      if (!s) return;
      // close() alone only stops accepting; the open pairs must go too or in-flight queries would finish.
      const closed = new Promise<void>((resolve) => s.close(() => resolve()));
      for (const { client, upstream } of [...pairs]) {
        client.destroy();
        upstream.destroy();
      }
      pairs.clear();
      await closed;
    },
    async start() {
      if (server) return;
      await listen();
    },
    setDelay(d = { ms: 0 }) {
      if (!Number.isFinite(d.ms) || d.ms < 0) throw new Error(`delay must be a non-negative number of ms, got ${d.ms}`);
      delay = { ms: d.ms, per: d.per ?? 'chunk' };
    },
    get delayed() {
      return { ...delayed };
    },
  };
}
