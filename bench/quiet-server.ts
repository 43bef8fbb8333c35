import { loadConfig } from '../src/config.js';
import { buildApp } from '../src/app.js';
import { openDatabase } from '../src/platform/db/open.js';

// The service without its background workers (refreshers, senders, imports), for measuring requests:
// a worker's pass on a 1 M-row database would add its CPU to the backends bench/analytics-cpu.ts reads.
// Usage: DATABASE_URL=… JWT_SECRET=… PORT=… NODE_ENV=production tsx bench/quiet-server.ts
const config = loadConfig();
const database = await openDatabase(config);
const app = await buildApp({ config, database, startWorkers: false });
app.addHook('onClose', async () => database.close());
await app.listen({ port: Number(process.env.PORT), host: '127.0.0.1' });
console.log(`listening pid ${process.pid}`);
