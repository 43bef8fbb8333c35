import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { generateOpenapiYaml } from '../platform/http/openapi-document.js';

// npm run openapi: regenerates the committed openapi.yaml from the route schemas.
const target = fileURLToPath(new URL('../../openapi.yaml', import.meta.url));
writeFileSync(target, await generateOpenapiYaml());
console.log(`wrote ${target}`);
