/**
 * Drizzle (pg-core) description of the rollout store. The tables are created by the hand-written SQL in
 * `migrations/`, which must stay in step with this file (`schema_test.ts` checks that every column declared
 * here exists in the migrated database with the same SQL type).
 *
 * Tables are unqualified: they live in the schema that the connection's `search_path` names (`public` unless
 * `openStore({ schema })` says otherwise).
 * @module
 */
import type { FinishReason } from "../../core/sampling/mod.ts";
import {
  boolean,
  doublePrecision,
  foreignKey,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  serial,
  text,
  timestamp,
  unique,
} from "drizzle-orm/pg-core";

/** Status of a training run. */
export type RunStatus = "running" | "finished" | "failed";
/** Every {@linkcode RunStatus}, in the order a run passes through them. */
export const RUN_STATUSES: readonly RunStatus[] = ["running", "finished", "failed"];

export { FINISH_REASONS, type FinishReason } from "../../core/sampling/mod.ts";

/** JSON value as stored in a jsonb column. */
export type Json = string | number | boolean | null | Json[] | { [key: string]: Json };

/** One training run: its method, the full configuration and where it stands. */
export const runs = pgTable("runs", {
  id: serial("id").primaryKey(),
  name: text("name").notNull().unique(),
  createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  method: text("method").notNull(),
  config: jsonb("config").$type<{ [key: string]: Json }>().notNull(),
  status: text("status").$type<RunStatus>().notNull().default("running"),
  codeRevision: text("code_revision"),
});

/** A problem a run samples from; `(source, id)` names it across data sets. */
export const problems = pgTable("problems", {
  source: text("source").notNull(),
  id: text("id").notNull(),
  prompt: text("prompt").notNull(),
  gold: text("gold").notNull(),
  split: text("split"),
  level: text("level"),
}, (t) => [primaryKey({ name: "problems_pkey", columns: [t.source, t.id] })]);

/** The row of one training step: its metrics (jsonb), written in the same transaction as its rollouts. */
export const steps = pgTable("steps", {
  runId: integer("run_id").notNull().references(() => runs.id, { onDelete: "cascade" }),
  step: integer("step").notNull(),
  metrics: jsonb("metrics").$type<{ [key: string]: Json }>().notNull(),
  createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
}, (t) => [primaryKey({ name: "steps_pkey", columns: [t.runId, t.step] })]);

/** One sampled response with its verdict, reward and advantage; unique on (run, step, problem, sample). */
export const rollouts = pgTable("rollouts", {
  runId: integer("run_id").notNull(),
  step: integer("step").notNull(),
  problemSource: text("problem_source").notNull(),
  problemId: text("problem_id").notNull(),
  sampleIndex: integer("sample_index").notNull(),
  policyVersion: integer("policy_version").notNull(),
  response: text("response").notNull(),
  tokenCount: integer("token_count").notNull(),
  finishReason: text("finish_reason").$type<FinishReason>().notNull(),
  verifierStatus: text("verifier_status").notNull(),
  extractedAnswer: text("extracted_answer"),
  correct: boolean("correct").notNull(),
  reward: doublePrecision("reward").notNull(),
  advantage: doublePrecision("advantage"),
  kept: boolean("kept").notNull(),
}, (t) => [
  primaryKey({
    name: "rollouts_pkey",
    columns: [t.runId, t.step, t.problemSource, t.problemId, t.sampleIndex],
  }),
  foreignKey({
    name: "rollouts_step_fkey",
    columns: [t.runId, t.step],
    foreignColumns: [steps.runId, steps.step],
  })
    .onDelete("cascade"),
  foreignKey({
    name: "rollouts_problem_fkey",
    columns: [t.problemSource, t.problemId],
    foreignColumns: [problems.source, problems.id],
  }),
]);

/** A checkpoint written by a run: file path, its SHA-256 and the evaluation figures measured on it. */
export const checkpoints = pgTable("checkpoints", {
  runId: integer("run_id").notNull().references(() => runs.id, { onDelete: "cascade" }),
  step: integer("step").notNull(),
  path: text("path").notNull(),
  sha256: text("sha256").notNull(),
  evaluation: jsonb("evaluation").$type<{ [key: string]: Json }>().notNull(),
  createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
}, (t) => [primaryKey({ name: "checkpoints_pkey", columns: [t.runId, t.step] })]);

/** Where a job's sampling stands: waiting, held by a worker until its lease expires, or written. */
export type JobStatus = "queued" | "leased" | "done";

/** A policy version a run published for rollout workers: a checkpoint folder and its content hash. */
export const policyVersions = pgTable("policy_versions", {
  runId: integer("run_id").notNull().references(() => runs.id, { onDelete: "cascade" }),
  version: integer("version").notNull(),
  path: text("path").notNull(),
  sha256: text("sha256").notNull(),
  createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
}, (t) => [primaryKey({ name: "policy_versions_pkey", columns: [t.runId, t.version] })]);

/**
 * A sampling job: K responses to one prompt of one step with one policy version. A worker leases it (a lease
 * token and an expiry it renews); an expired lease is leased again by any worker.
 */
export const rolloutJobs = pgTable("rollout_jobs", {
  id: serial("id").primaryKey(),
  runId: integer("run_id").notNull().references(() => runs.id, { onDelete: "cascade" }),
  step: integer("step").notNull(),
  groupIndex: integer("group_index").notNull(),
  policyVersion: integer("policy_version").notNull(),
  problem: jsonb("problem").$type<{ [key: string]: Json }>().notNull(),
  settings: jsonb("settings").$type<{ [key: string]: Json }>().notNull(),
  status: text("status").$type<JobStatus>().notNull().default("queued"),
  leaseToken: text("lease_token"),
  leasedBy: text("leased_by"),
  leaseExpiresAt: timestamp("lease_expires_at", { withTimezone: true }),
  attempts: integer("attempts").notNull().default(0),
  /** Why the last attempt failed, as the worker reported it. */
  lastError: text("last_error"),
  createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  finishedAt: timestamp("finished_at", { withTimezone: true }),
}, (t) => [
  unique("rollout_jobs_group_key").on(t.runId, t.step, t.groupIndex),
  foreignKey({
    name: "rollout_jobs_policy_fkey",
    columns: [t.runId, t.policyVersion],
    foreignColumns: [policyVersions.runId, policyVersions.version],
  }),
]);

/** One response a worker sampled and verified for a job, written with the job's completion. */
export const jobRollouts = pgTable("job_rollouts", {
  jobId: integer("job_id").notNull().references(() => rolloutJobs.id, { onDelete: "cascade" }),
  sampleIndex: integer("sample_index").notNull(),
  /** Optimizer steps between the sampling policy and the policy the step updates (step - 1 - version). */
  policyLag: integer("policy_lag").notNull(),
  tokens: jsonb("tokens").$type<number[]>().notNull(),
  response: text("response").notNull(),
  finishReason: text("finish_reason").$type<FinishReason>().notNull(),
  verifierStatus: text("verifier_status").notNull(),
  extractedAnswer: text("extracted_answer"),
  correct: boolean("correct").notNull(),
  departureStep: integer("departure_step"),
  departureToken: integer("departure_token"),
}, (t) => [primaryKey({ name: "job_rollouts_pkey", columns: [t.jobId, t.sampleIndex] })]);

/** Bookkeeping of the migrator: one row per applied file of `migrations/`. */
export const migrationsTable = pgTable("_migrations", {
  name: text("name").primaryKey(),
  sha256: text("sha256").notNull(),
  appliedAt: timestamp("applied_at", { withTimezone: true }).notNull().defaultNow(),
});

/** Every table of the store, as passed to `drizzle(client, { schema })`. */
export const schema = {
  runs,
  problems,
  steps,
  rollouts,
  checkpoints,
  policyVersions,
  rolloutJobs,
  jobRollouts,
  migrationsTable,
};
/** Type of {@linkcode schema}. */
export type Schema = typeof schema;
