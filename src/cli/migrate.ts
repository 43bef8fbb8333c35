// npm run migrate, and `node dist/cli/migrate.js` in the Docker image: the same as `crm migrate`.
process.argv.splice(2, 0, 'migrate');
await import('./crm.js');
