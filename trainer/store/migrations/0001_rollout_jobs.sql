-- Rollout workers: published policy versions, sampling jobs leased with FOR UPDATE SKIP LOCKED, and the
-- responses a worker wrote for a job (in the transaction that marks the job done). Keep in step with
-- trainer/store/schema.ts.
CREATE TABLE policy_versions (
  run_id integer NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
  version integer NOT NULL CHECK (version >= 0),
  path text NOT NULL,
  sha256 text NOT NULL,
  created_at timestamp with time zone NOT NULL DEFAULT now(),
  CONSTRAINT policy_versions_pkey PRIMARY KEY (run_id, version)
);
--> statement-breakpoint
CREATE TABLE rollout_jobs (
  id serial PRIMARY KEY,
  run_id integer NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
  step integer NOT NULL CHECK (step >= 1),
  group_index integer NOT NULL CHECK (group_index >= 0),
  policy_version integer NOT NULL,
  problem jsonb NOT NULL,
  settings jsonb NOT NULL,
  status text NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'leased', 'done')),
  lease_token text,
  leased_by text,
  lease_expires_at timestamp with time zone,
  attempts integer NOT NULL DEFAULT 0,
  last_error text,
  created_at timestamp with time zone NOT NULL DEFAULT now(),
  finished_at timestamp with time zone,
  CONSTRAINT rollout_jobs_group_key UNIQUE (run_id, step, group_index),
  CONSTRAINT rollout_jobs_policy_fkey FOREIGN KEY (run_id, policy_version)
    REFERENCES policy_versions (run_id, version)
);
--> statement-breakpoint
CREATE INDEX rollout_jobs_open ON rollout_jobs (id) WHERE status <> 'done';
--> statement-breakpoint
CREATE TABLE job_rollouts (
  job_id integer NOT NULL REFERENCES rollout_jobs (id) ON DELETE CASCADE,
  sample_index integer NOT NULL CHECK (sample_index >= 0),
  policy_lag integer NOT NULL CHECK (policy_lag >= 0),
  tokens jsonb NOT NULL,
  response text NOT NULL,
  finish_reason text NOT NULL CHECK (finish_reason IN ('stop', 'length')),
  verifier_status text NOT NULL,
  extracted_answer text,
  correct boolean NOT NULL,
  departure_step integer,
  departure_token integer,
  CONSTRAINT job_rollouts_pkey PRIMARY KEY (job_id, sample_index)
);
