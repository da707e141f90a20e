-- The views dashboards read: one per question a lead asks. Each view's header says the question,
-- the Metabase question built on it and its chart; docs/dashboards/metabase.md is generated from
-- these headers (`python -m deliverables.publish.dashboards`). Every view keeps the `project`
-- column: a dashboard filter on it shows one solution, none shows the team's.

-- view: project_status
-- question: Where is each project?
-- metabase: a table question on the view, one row per project, sorted by percent_done; add a progress bar column format on percent_done
-- chart: Table (with progress bars)
CREATE VIEW project_status AS
SELECT p.project,
       p.as_of,
       p.current_phase,
       p.current_phase_title,
       ph.status AS current_phase_status,
       (SELECT count(*) FROM phases x WHERE x.project = p.project AND x.status = 'passed')
           AS phases_passed,
       p.items_done + p.deliverables_done AS done,
       p.items_total + p.deliverables_total AS total,
       round(100.0 * (p.items_done + p.deliverables_done)
             / nullif(p.items_total + p.deliverables_total, 0), 1) AS percent_done,
       p.last_activity
FROM projects p
JOIN phases ph ON ph.project = p.project AND ph.phase = p.current_phase;

-- view: gate_blockers_now
-- question: What blocks each gate?
-- metabase: a table question grouped by project and phase (or a bar chart of the count of rows by phase); filter on project
-- chart: Table, or Bar (count by phase)
CREATE VIEW gate_blockers_now AS
SELECT b.project,
       b.phase,
       ph.title AS phase_title,
       ph.status AS phase_status,
       ph.gate_outcome,
       b.position,
       b.criterion,
       b.blocker
FROM gate_blockers b
JOIN phases ph ON ph.project = b.project AND ph.phase = b.phase;

-- view: phase_burnup
-- question: How is each phase burning up?
-- metabase: a line question, x = day, y = closed (and required as a second series), one line per phase (series breakout on phase); filter on project
-- chart: Line
CREATE VIEW phase_burnup AS
SELECT d.project,
       d.phase,
       ph.title AS phase_title,
       d.day,
       d.closed,
       d.required,
       round(100.0 * d.closed / nullif(d.required, 0), 1) AS percent_closed
FROM phase_days d
JOIN phases ph ON ph.project = d.project AND ph.phase = d.phase;

-- view: validation_pass_rate
-- question: What is each pipeline's validation pass rate over time?
-- metabase: a line question, x = day, y = pass_rate, series breakout on pipeline; filter on project, tier and source (phasegate's validation tiers or Airflow's scheduled runs)
-- chart: Line
CREATE VIEW validation_pass_rate AS
SELECT c.project,
       c.pipeline,
       r.tier,
       'phasegate'::text AS source,
       (r.finished_at AT TIME ZONE 'UTC')::date AS day,
       count(*) AS checks,
       count(*) FILTER (WHERE c.outcome IN ('passed', 'warning', 'skipped')) AS passed,
       round(100.0 * count(*) FILTER (WHERE c.outcome IN ('passed', 'warning', 'skipped'))
             / count(*), 1) AS pass_rate
FROM validation_checks c
JOIN validation_runs r ON r.project = c.project AND r.id = c.run_id
WHERE r.finished_at IS NOT NULL
GROUP BY c.project, c.pipeline, r.tier, (r.finished_at AT TIME ZONE 'UTC')::date
UNION ALL
SELECT q.project,
       q.pipeline,
       'scheduled'::text AS tier,
       'airflow'::text AS source,
       coalesce(q.logical_date, (q.recorded_at AT TIME ZONE 'UTC')::date) AS day,
       count(*) AS checks,
       count(*) FILTER (WHERE q.success OR q.severity <> 'error') AS passed,
       round(100.0 * count(*) FILTER (WHERE q.success OR q.severity <> 'error') / count(*), 1)
           AS pass_rate
FROM quality_results q
GROUP BY q.project, q.pipeline, coalesce(q.logical_date, (q.recorded_at AT TIME ZONE 'UTC')::date);

-- view: overdue_work
-- question: Who has overdue work?
-- metabase: a bar question, x = owner, y = overdue_items (stacked by project); the table form lists the items
-- chart: Bar
CREATE VIEW overdue_work AS
SELECT i.project,
       coalesce(i.owner, '(nobody)') AS owner,
       count(*) AS overdue_items,
       min(i.due) AS oldest_due,
       max(p.as_of - i.due) AS most_days_overdue,
       string_agg(i.item, ', ' ORDER BY i.due, i.item) AS items
FROM items i
JOIN projects p ON p.project = i.project
WHERE i.status NOT IN ('done', 'not_applicable') AND i.due < p.as_of
GROUP BY i.project, coalesce(i.owner, '(nobody)');

-- view: gate_first_review
-- question: How often does a gate pass at its first review?
-- metabase: a number question on pass_rate (one project filtered), or a bar question of pass_rate by project
-- chart: Number, or Bar (by project)
CREATE VIEW gate_first_review AS
SELECT project,
       count(*) AS phases_reviewed,
       count(*) FILTER (WHERE outcome IN ('passed', 'passed_with_waivers')) AS passed_first,
       round(100.0 * count(*) FILTER (WHERE outcome IN ('passed', 'passed_with_waivers'))
             / count(*), 1) AS pass_rate
FROM gate_reviews
WHERE first_of_phase
GROUP BY project;

-- view: time_to_deployment
-- question: How long from phase 1 to deployment?
-- metabase: a number question on days (days_so_far while not deployed), or a bar question by project
-- chart: Number, or Bar (by project)
CREATE VIEW time_to_deployment AS
SELECT p.project,
       first.entered AS phase_1_entered,
       deployment.passed AS deployment_passed,
       deployment.passed - first.entered AS days,
       p.as_of - first.entered AS days_so_far
FROM projects p
LEFT JOIN phases first ON first.project = p.project AND first.position = 1
LEFT JOIN phases deployment ON deployment.project = p.project AND deployment.phase = '6';

-- view: phase_timeline
-- question: When did each phase run?
-- metabase: a row (horizontal bar) question, y = phase, x = days, or a table of entered/until; filter on project
-- chart: Row
CREATE VIEW phase_timeline AS
SELECT ph.project,
       ph.phase,
       ph.position,
       ph.title,
       ph.status,
       ph.entered,
       coalesce(ph.passed, p.as_of) AS until,
       ph.passed,
       coalesce(ph.duration_days, p.as_of - ph.entered) AS days
FROM phases ph
JOIN projects p ON p.project = ph.project
WHERE ph.entered IS NOT NULL;
