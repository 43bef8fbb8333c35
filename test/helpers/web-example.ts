import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build, mergeConfig, preview } from 'vite';
import { webExampleConfig } from '../../examples/web/vite.config.js';

// The web example (examples/web) built by Vite into a temporary folder and served by `vite preview`
// on 127.0.0.1, forwarding /v1 to the API under test: the same files a user of the example gets.

export interface ServedExample {
  url: string;
  close(): Promise<void>;
}

export async function serveWebExample(apiUrl: string): Promise<ServedExample> {
  const outDir = mkdtempSync(join(tmpdir(), 'crm-web-example-'));
  const config = mergeConfig(webExampleConfig(apiUrl), { configFile: false, build: { outDir, emptyOutDir: true }, preview: { port: 0, strictPort: true } });
  await build(config);
  const server = await preview(config);
  const { port } = server.httpServer.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}/`,
    async close() {
      await server.close();
      rmSync(outDir, { recursive: true, force: true });
    },
  };
}
