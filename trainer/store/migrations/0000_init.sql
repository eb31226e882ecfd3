-- Rollout store, first version. Keep in step with trainer/store/schema.ts.
-- Statements are separated by the marker line below (the drizzle-kit convention).
CREATE TABLE runs (
  id serial PRIMARY KEY,
  name text NOT NULL UNIQUE,
  created_at timestamp with time zone NOT NULL DEFAULT now(),
  method text NOT NULL,
  config jsonb NOT NULL,
  status text NOT NULL DEFAULT 'running' CHECK (status IN ('running', 'finished', 'failed')),
  code_revision text
);
--> statement-breakpoint
CREATE TABLE problems (
  source text NOT NULL,
  id text NOT NULL,
  prompt text NOT NULL,
  gold text NOT NULL,
  split text,
  level text,
  CONSTRAINT problems_pkey PRIMARY KEY (source, id)
);
--> statement-breakpoint
CREATE TABLE steps (
  run_id integer NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
  step integer NOT NULL CHECK (step >= 0),
  metrics jsonb NOT NULL,
  created_at timestamp with time zone NOT NULL DEFAULT now(),
  CONSTRAINT steps_pkey PRIMARY KEY (run_id, step)
);
--> statement-breakpoint
CREATE TABLE rollouts (
  run_id integer NOT NULL,
  step integer NOT NULL,
  problem_source text NOT NULL,
  problem_id text NOT NULL,
  sample_index integer NOT NULL CHECK (sample_index >= 0),
  policy_version integer NOT NULL,
  response text NOT NULL,
  token_count integer NOT NULL CHECK (token_count >= 0),
  finish_reason text NOT NULL CHECK (finish_reason IN ('stop', 'length')),
  verifier_status text NOT NULL,
  extracted_answer text,
  correct boolean NOT NULL,
  reward double precision NOT NULL,
  advantage double precision,
  kept boolean NOT NULL,
  CONSTRAINT rollouts_pkey PRIMARY KEY (run_id, step, problem_source, problem_id, sample_index),
  CONSTRAINT rollouts_step_fkey FOREIGN KEY (run_id, step) REFERENCES steps (run_id, step) ON DELETE CASCADE,
  CONSTRAINT rollouts_problem_fkey FOREIGN KEY (problem_source, problem_id) REFERENCES problems (source, id)
);
--> statement-breakpoint
CREATE TABLE checkpoints (
  run_id integer NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
  step integer NOT NULL,
  path text NOT NULL,
  sha256 text NOT NULL,
  evaluation jsonb NOT NULL,
  created_at timestamp with time zone NOT NULL DEFAULT now(),
  CONSTRAINT checkpoints_pkey PRIMARY KEY (run_id, step)
);
