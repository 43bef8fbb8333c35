// npm run audit:verify: the same as `crm audit:verify`.
process.argv.splice(2, 0, 'audit:verify');
await import('./crm.js');
