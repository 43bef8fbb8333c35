import { fileURLToPath } from 'node:url';
import { type UserConfig, defineConfig } from 'vite';

// The page calls the API on its own origin and Vite forwards /v1 to the CRM (dev server and preview
// alike), so the example needs no CORS setup. To serve the built files from elsewhere, set
// VITE_CRM_API_URL at build time and list the page's origin in the server's CORS_ORIGINS.

const root = fileURLToPath(new URL('.', import.meta.url));

/** The example's Vite settings with /v1 forwarded to the CRM at `apiUrl`. */
export function webExampleConfig(apiUrl: string): UserConfig {
  const proxy = { '/v1': { target: apiUrl, changeOrigin: true } };
  return {
    root,
    server: { host: '127.0.0.1', proxy },
    preview: { host: '127.0.0.1', proxy },
    build: { outDir: 'dist', emptyOutDir: true },
    logLevel: 'warn',
  };
}

export default defineConfig(() => webExampleConfig(process.env.CRM_API_URL ?? 'http://127.0.0.1:3000'));
