// tap runs every test file in a process of its own with this module preloaded (package.json
// tap.node-arg): it registers the TypeScript hooks of ts-hooks.mjs, which stand in for the
// @tapjs/typescript plugin (ts-node) and cost ~1.5 s less CPU per test process.
import { register } from 'node:module';

register('./ts-hooks.mjs', import.meta.url);
