-- Version 1 of the published schema: the tracker's facts, every row keyed by its project, so
-- several solutions publish into one schema side by side. Written only by `phasegate publish`
-- (and the generated quality runner's quality_results); dashboards read the views.

CREATE TABLE schema_version (
    version integer NOT NULL,
    written_by text NOT NULL
);

-- What the last publish of each project sent (the high-water mark of the incremental publish).
CREATE TABLE publish_state (
    project text PRIMARY KEY,
    replica text NOT NULL,            -- the clone that published; another clone sends everything
    arrival_seq bigint NOT NULL,      -- the last op that had reached that clone
    activity_max bigint NOT NULL,     -- the highest activity row sent
    activity_last_op text,            -- and the op that made it (renumbered rows: a full publish)
    activity_count bigint NOT NULL,
    digests jsonb NOT NULL,           -- per table sent whole, a digest of its rows: unchanged, not sent
    published_at timestamptz NOT NULL
);

CREATE TABLE projects (
    project text PRIMARY KEY,
    as_of date NOT NULL,              -- the project's today when published
    current_phase text NOT NULL,
    current_phase_title text NOT NULL,
    items_done integer NOT NULL,
    items_total integer NOT NULL,
    deliverables_done integer NOT NULL,
    deliverables_total integer NOT NULL,
    first_activity timestamptz,
    last_activity timestamptz
);

CREATE TABLE phases (
    project text NOT NULL,
    phase text NOT NULL,
    position integer NOT NULL,
    title text NOT NULL,
    status text NOT NULL,             -- not_started | in_progress | in_review | passed
    items_done integer NOT NULL,
    items_total integer NOT NULL,
    deliverables_done integer NOT NULL,
    deliverables_total integer NOT NULL,
    gate_outcome text NOT NULL,       -- the gate as evaluated now
    entered date,                     -- the first change to one of its items or deliverables
    passed date,                      -- its first passing gate review
    duration_days integer,
    PRIMARY KEY (project, phase)
);

-- Each phase's checklist burn-up: required items closed at the end of each day.
CREATE TABLE phase_days (
    project text NOT NULL,
    phase text NOT NULL,
    day date NOT NULL,
    closed integer NOT NULL,
    required integer NOT NULL,
    PRIMARY KEY (project, phase, day)
);

CREATE TABLE items (
    project text NOT NULL,
    item text NOT NULL,
    phase text NOT NULL,
    sub_phase text NOT NULL,
    text text NOT NULL,
    optional boolean NOT NULL,
    status text NOT NULL,
    reason text,
    owner text,
    due date,
    note text,
    updated_at timestamptz,
    updated_by text,
    PRIMARY KEY (project, item)
);

CREATE TABLE deliverables (
    project text NOT NULL,
    deliverable text NOT NULL,
    phase text NOT NULL,
    title text NOT NULL,
    optional boolean NOT NULL,
    status text NOT NULL,
    reason text,
    owner text,
    path text NOT NULL,
    updated_at timestamptz,
    updated_by text,
    PRIMARY KEY (project, deliverable)
);

CREATE TABLE activity (
    project text NOT NULL,
    id bigint NOT NULL,
    at timestamptz NOT NULL,
    actor text NOT NULL,
    action text NOT NULL,
    subject text NOT NULL,
    field text NOT NULL,
    before text,
    after text,
    op text,
    PRIMARY KEY (project, id)
);
CREATE INDEX activity_at ON activity (project, at);

CREATE TABLE gate_requests (
    project text NOT NULL,
    id bigint NOT NULL,
    phase text NOT NULL,
    at timestamptz NOT NULL,
    actor text NOT NULL,
    reviewers jsonb NOT NULL,
    PRIMARY KEY (project, id)
);

CREATE TABLE gate_decisions (
    project text NOT NULL,
    id bigint NOT NULL,
    request_id bigint NOT NULL,
    reviewer text NOT NULL,
    decision text NOT NULL,
    comment text NOT NULL,
    at timestamptz NOT NULL,
    PRIMARY KEY (project, id)
);

CREATE TABLE gate_reviews (
    project text NOT NULL,
    id bigint NOT NULL,
    phase text NOT NULL,
    request_id bigint,
    outcome text NOT NULL,            -- passed | passed_with_waivers | failed
    at timestamptz NOT NULL,
    actor text NOT NULL,
    git_commit text,
    git_dirty boolean,
    corrects bigint,
    first_of_phase boolean NOT NULL,  -- the phase's first review
    record jsonb NOT NULL,            -- criteria with their evidence, blockers, decisions, waivers
    PRIMARY KEY (project, id)
);

-- What blocks each gate now (the live evaluation), one row per blocker.
CREATE TABLE gate_blockers (
    project text NOT NULL,
    phase text NOT NULL,
    position integer NOT NULL,
    criterion text NOT NULL,
    blocker text NOT NULL,
    PRIMARY KEY (project, phase, position)
);

CREATE TABLE waivers (
    project text NOT NULL,
    id bigint NOT NULL,
    target text NOT NULL,
    reason text NOT NULL,
    requester text NOT NULL,
    requested_at timestamptz NOT NULL,
    expires date NOT NULL,
    approver text,
    approved_at timestamptz,
    state text NOT NULL,              -- pending approval | active | expired (as of projects.as_of)
    PRIMARY KEY (project, id)
);

CREATE TABLE validation_runs (
    project text NOT NULL,
    id bigint NOT NULL,
    tier text NOT NULL,
    status text NOT NULL,
    started_at timestamptz NOT NULL,
    finished_at timestamptz,
    actor text NOT NULL,
    git_commit text,
    git_dirty boolean,
    pipelines jsonb NOT NULL,
    summary text,
    checks integer NOT NULL,
    passed integer NOT NULL,
    failed integer NOT NULL,
    op text,
    PRIMARY KEY (project, id)
);

CREATE TABLE validation_checks (
    project text NOT NULL,
    run_id bigint NOT NULL,
    position integer NOT NULL,
    pipeline text NOT NULL,
    step text NOT NULL,
    check_name text NOT NULL,
    outcome text NOT NULL,
    detail text NOT NULL,
    duration double precision,
    element_count bigint,
    unexpected_count bigint,
    unexpected_percent double precision,
    severity text,
    data jsonb NOT NULL,
    PRIMARY KEY (project, run_id, position)
);
CREATE INDEX validation_checks_pipeline ON validation_checks (project, pipeline);

CREATE TABLE profiles (
    project text NOT NULL,
    name text NOT NULL,
    profiled_at timestamptz,
    source text,
    rows_profiled bigint,
    duplicate_rows bigint,
    basis text,
    columns integer NOT NULL,
    PRIMARY KEY (project, name)
);

CREATE TABLE profile_columns (
    project text NOT NULL,
    profile text NOT NULL,
    position integer NOT NULL,
    column_name text NOT NULL,
    type text,
    nulls bigint,
    distinct_count bigint,
    sensitive boolean,
    PRIMARY KEY (project, profile, position)
);

-- The process document's success metrics, one row per metric per day.
CREATE TABLE metrics_daily (
    project text NOT NULL,
    day date NOT NULL,
    metric text NOT NULL,
    value double precision NOT NULL,
    PRIMARY KEY (project, day, metric)
);

-- Written by the generated quality runner (Airflow's scheduled runs), not by `phasegate publish`:
-- the runner creates it (the same definition) when it writes before the first publish.
CREATE TABLE IF NOT EXISTS quality_results (
    project text NOT NULL,
    pipeline text NOT NULL,
    run text NOT NULL,
    logical_date date,
    expectation text NOT NULL,
    position integer NOT NULL,
    success boolean NOT NULL,
    unexpected_count bigint,
    unexpected_percent double precision,
    severity text NOT NULL,
    recorded_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (project, pipeline, run, position)
);
