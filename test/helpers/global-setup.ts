/**
 * vitest global setup: starts ONE embedded PostgreSQL for the whole run (a temporary data
 * directory, a free loopback port, fsync off) and provides its admin URL to test files as
 * `inject('postgresAdminUrl')`. The store helpers create one database per test file on it.
 *
 * It costs about one second (initdb dominates). If PostgreSQL cannot start, the run fails: the
 * store suite must never silently skip an engine. Set POSTERN_TEST_POSTGRES_URL to an admin URL
 * of an existing server (one that may CREATE DATABASE) to use it instead.
 */
import type { TestProject } from 'vitest/node';
import { checkPostgresConnection, startEmbeddedPostgres } from './embedded-postgres.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Admin URL of the test PostgreSQL server (database `postgres`). */
    postgresAdminUrl: string;
  }
}

/** Starts PostgreSQL and returns the teardown that stops it. */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const external = process.env.POSTERN_TEST_POSTGRES_URL;
  if (external !== undefined && external !== '') {
    await checkPostgresConnection(external);
    project.provide('postgresAdminUrl', external);
    return async () => {};
  }
  const started = performance.now();
  const server = await startEmbeddedPostgres({ purpose: 'The store suite' });
  if (process.env.POSTERN_TEST_TIMING === '1') {
    console.info(`embedded PostgreSQL ready in ${Math.round(performance.now() - started)} ms`);
  }
  project.provide('postgresAdminUrl', server.url);
  return server.stop;
}
