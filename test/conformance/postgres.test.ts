import { after, before } from 'node:test';
import { PostgresStore } from '../../src/store/postgres/postgres-store.js';
import { adminSql, dropSchema, SHARED_POSTGRES_URL, sweepSchemas, uniqueSchema } from '../postgres/servers.js';
import { runStoreConformance } from './suite.js';

const admin = adminSql();
const schemas: string[] = [];
before(() => sweepSchemas(admin));
after(async () => {
  for (const schema of schemas) await dropSchema(admin, schema);
  await admin.end();
});
runStoreConformance({
  name: 'PostgresStore',
  // A fresh schema per test on the shared PostgreSQL; `shared` opens a second handle on it.
  open: ({ clock, shared }) => {
    if (!shared) schemas.push(uniqueSchema());
    const schema = schemas[schemas.length - 1]!;
    return PostgresStore.open({ url: SHARED_POSTGRES_URL, schema, clock, maxConnections: 4, description: `test schema ${schema}` });
  },
  // The effects tables of the transaction tests live in the test's own schema, dropped with it.
  database: {
    query: async (text, values) => (await admin.query(text, values)).rows as Record<string, unknown>[],
    table: (name) => `"${schemas[schemas.length - 1]!}".${name}`,
  },
});
