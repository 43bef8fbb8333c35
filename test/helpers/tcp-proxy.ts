import { type Server, type Socket, connect, createServer } from 'node:net';

// A TCP proxy on 127.0.0.1 in front of a database, for fault tests. stop() makes the database look
// gone the way a crashed or unplugged server does — new connections are refused and every open
// connection is cut mid-stream — and start() brings it back on the same port, so a client pool
// pointed at the proxy has to notice the outage and recover by itself.

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
}

export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  const pairs = new Set<{ client: Socket; upstream: Socket }>();
  let server: Server | undefined;
  let port = 0;

  const onConnection = (client: Socket) => {
    const upstream = connect({ host: target.host, port: target.port });
    const pair = { client, upstream };
    pairs.add(pair);
    // Either side ending or failing ends both: a half-open pair would hide the outage from the client.
    const cut = () => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    for (const s of [client, upstream]) {
      s.on('error', cut);
      s.on('close', cut);
    }
    client.pipe(upstream);
    upstream.pipe(client);
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
  };
}
