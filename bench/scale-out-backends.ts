// The backends the scale-out benchmarks compare: SQLite always, PostgreSQL when this machine has a
// cluster and this build has the backend (else a note saying why it was left out).
import { needsPostgres } from '../test/helpers/postgres';
import { postgresBackend, type Backend } from '../test/helpers/topology';

export interface BenchBackend {
  label: 'SQLite' | 'PostgreSQL';
  backend: Backend;
  cleanup: () => Promise<void>;
}

export const sqliteBackend = (): BenchBackend => ({ label: 'SQLite', backend: { kind: 'sqlite' }, cleanup: async () => {} });

/** A fresh PostgreSQL database as a backend, or the reason there is none. */
export async function benchPostgres(label: string): Promise<BenchBackend | string> {
  // The bench is not a test run: a missing prerequisite is a note, never a failure.
  const strict = process.env.MLOPS_TEST_STRICT;
  delete process.env.MLOPS_TEST_STRICT;
  try {
    const missing = needsPostgres();
    if (missing) return missing;
    const chosen = await postgresBackend(label);
    return typeof chosen === 'string' ? chosen : { label: 'PostgreSQL', ...chosen };
  } finally {
    if (strict !== undefined) process.env.MLOPS_TEST_STRICT = strict;
  }
}
