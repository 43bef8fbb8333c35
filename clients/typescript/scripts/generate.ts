import { writeFileSync } from 'node:fs';
import { generateClientTypes, generatedPath } from './codegen.js';

// npm run client:generate: rewrites the client's types after openapi.yaml changed (npm run openapi).
writeFileSync(generatedPath, await generateClientTypes());
console.log(`wrote ${generatedPath}`);
