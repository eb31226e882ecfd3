/**
 * The rollout store: every sampled response, its verdict and reward, every step's metrics and every checkpoint,
 * kept in PostgreSQL through Drizzle: embedded PGlite in a folder by default (`.oreal/db`), a PostgreSQL server
 * when a URL is given (`DATABASE_URL`). Same schema and migrations for both.
 *
 * ```ts
 * const store = await openStore({ databaseUrl: resolveDatabaseUrl(undefined) });
 * const runId = (await store.findRun("my-run"))?.id ??
 *   await store.createRun({ name: "my-run", method: "oreal", config });
 * const resumeFrom = ((await store.latestStep(runId)) ?? -1) + 1;
 * await store.upsertProblems(problems);
 * await store.writeStep({ runId, step, rollouts, metrics: { passRate, losses, kl } });
 * await store.recordCheckpoint({ runId, step, path, sha256, evaluation });
 * await store.setRunStatus(runId, "finished");
 * await store.close();
 * ```
 * @module
 */
export {
  DEFAULT_DATA_DIR,
  openStore,
  type OpenStoreOptions,
  Store,
  type StoreSettings,
  storeSettings,
} from "./store.ts";
export {
  connect,
  type Connection,
  type Driver,
  IN_MEMORY,
  redactUrl,
  StoreConnectError,
  type StoreDatabase,
} from "./connect.ts";
export { connectMigrated } from "./migrate.ts";
export { createsDatabase, openStoreThread, type RunStore, StoreThread } from "./thread.ts";
export { DEFAULT_STORE_LIMITS, StoreInputError, type StoreLimits } from "./validate.ts";
export {
  integerFlag,
  LineWriter,
  parseStoreArgs,
  requireRun,
  resolveDatabaseUrl,
  runCli,
  STORE_FLAGS,
  type StoreFlagValues,
  storeOptionsFromFlags,
  storeUsage,
  UsageError,
  withStore,
} from "./cli.ts";
export { FINISH_REASONS, type FinishReason, type Json, RUN_STATUSES, type RunStatus } from "./schema.ts";
export type * from "./types.ts";
