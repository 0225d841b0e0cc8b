// What the PostgreSQL prediction-log tests (prediction-log-postgres, prediction-log-copy) share: temp
// dirs and fresh databases removed after the file's tests, and SQL on a connection of the test's own.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after } from 'node:test';
import pg from 'pg';
import { createTestDatabase, type TestDatabase } from './postgres';

/** Temp dirs and fresh databases named by `label`; all removed after the calling file's tests. */
export function pgLogFixtures(label: string): { tempDir: () => string; database: () => Promise<TestDatabase> } {
  const dirs: string[] = [];
  const databases: TestDatabase[] = [];
  after(async () => {
    for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
    for (const db of databases) await db.drop();
  });
  return {
    tempDir() {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), `${label}-`));
      dirs.push(dir);
      return dir;
    },
    async database() {
      const db = await createTestDatabase(label);
      databases.push(db);
      return db;
    },
  };
}

/** Runs SQL on `url` with a connection of the test's own. */
export async function sql<R extends pg.QueryResultRow = Record<string, unknown>>(
  url: string,
  text: string,
  values: unknown[] = [],
): Promise<R[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<R>(text, values)).rows;
  } finally {
    await client.end();
  }
}
