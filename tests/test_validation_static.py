"""The static tier with the real tools (ruff, a DagBag, GX, sqlglot) in its subprocess: a generated
solution passes every check, and each kind of breakage is found and named."""

from __future__ import annotations

import json
import subprocess
import textwrap

import pytest

from deliverables import Project
from deliverables.validations import validations_green
from pipelines.codegen import generate_pipelines
from pipelines.errors import ValidationError
from pipelines.scaffold import generate_scaffold
from pipelines.validation.engine import validate
from pipelines.validation.static import ddl_problems
from tests.conftest import fixed_clock
from tests.test_pipeline_spec import EXAMPLE, STORE_MASTER

PLAIN = """\
name: {name}
source: {{path: landing/{name}.json, format: json}}
schema:
  - {{name: id, type: long, nullable: false}}
  - {{name: label, type: string}}
target: {{table: ops.{name}}}
quality:
  - {{rule: not_null, column: id}}
  - {{rule: between, column: id, min: 1, max: 100}}
"""


def make_solution(root, specs: dict[str, str], *, commit: bool = False) -> Project:
    project, _ = Project.init(root, clock=fixed_clock)
    generate_scaffold(project)
    (project.root / "pipelines").mkdir()
    for name, text in specs.items():
        (project.root / "pipelines" / f"{name}.yaml").write_text(text)
    generate_pipelines(project)
    if commit:  # everything, the tracker included, as a team commits its solution
        git(project.root, "add", "-A")
        git(project.root, "commit", "-q", "-m", "the solution")
    return project


def git(root, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=root, check=True, capture_output=True, text=True
    ).stdout.strip()


def by_check(outcome) -> dict[tuple[str, str, str], object]:
    return {(c.pipeline, c.step, c.check_name): c for c in outcome.checks}


def test_a_generated_solution_passes_every_static_check_and_the_run_is_stored(tmp_path):
    project = make_solution(
        tmp_path / "retail", {"pos_orders": EXAMPLE, "store_master": STORE_MASTER}, commit=True
    )
    head = git(project.root, "rev-parse", "HEAD")
    # phasegate's own state changes after the commit (a tick, a regenerated manifest): that is
    # not a change of the solution, so the run judges a clean tree
    project.tracker.update("item", "1.1.1", {"status": "done"})
    manifest = project.root / ".phasegate" / "generated.json"
    manifest.write_text(manifest.read_text() + "\n")
    assert git(project.root, "status", "--porcelain", "--untracked-files=no")  # git sees them
    events = []
    outcome = validate(project, tier="static", listener=events.append)
    assert outcome.status == "passed", [
        (c.pipeline, c.check_name, c.detail) for c in outcome.checks if c.outcome != "passed"
    ]
    checks = by_check(outcome)
    steps = {(c.pipeline, c.step) for c in outcome.checks}
    for name in ("pos_orders", "store_master"):
        for step in ("sync", "parse", "lint", "dagbag", "dag", "suite", "ddl"):
            assert (name, step) in steps
    assert checks[("pos_orders", "suite", "GX suite loads")].payload == {"loaded": 8}
    assert checks[("pos_orders", "dag", "orchestration")].detail == "triggered after store_master"
    # stored: the run, its checks, the versions, the commit, one activity event
    run = project.tracker.run(outcome.run_id)
    assert run.status == "passed" and run.tier == "static" and run.finished_at
    assert (run.git_commit, run.git_dirty) == (head, 0)
    assert "apache-airflow" in run.version_map and "great-expectations" in run.version_map
    assert len(project.tracker.run_checks(outcome.run_id)) == len(outcome.checks)
    assert project.tracker.activity(1)[0].subject == f"run:{outcome.run_id}"
    assert events[0]["event"] == "started" and events[-1]["event"] == "finished"
    assert any(e["event"] == "step" for e in events)
    # the phase 4 gate criterion reads the latest run of every pipeline
    met, lines = validations_green(project, "4")
    assert met and lines[0].startswith("pos_orders: passed (run ")
    from deliverables.report import render_status_report

    report = render_status_report(project)
    assert "| pos\\_orders | passed | not validated | 1 (static, " in report
    assert "✔ **G4.3** The latest validation run of every pipeline is green" in report
    assert "✘ **G5.3**" in report
    met5, lines5 = validations_green(project, "5")
    assert not met5 and lines5 == [
        "pos_orders: no full validation run yet",
        "store_master: no full validation run yet",
    ]
    project.close()


def test_each_breakage_is_found_and_named(tmp_path):
    specs = {name: PLAIN.format(name=name) for name in ("alpha", "beta", "gamma", "delta")}
    specs["epsilon"] = PLAIN.format(name="epsilon") + "depends_on: [alpha]\n"
    project = make_solution(tmp_path / "ops", specs, commit=True)
    root = project.root
    head = git(root, "rev-parse", "HEAD")
    # alpha: GX would silently drop an unknown expectation type; and min > max
    suite_path = root / "great_expectations/expectations/alpha.json"
    suite = json.loads(suite_path.read_text())
    suite["expectations"].append({"type": "expect_column_values_to_be_purple", "kwargs": {}})
    suite["expectations"][1]["kwargs"].update(min_value=50, max_value=5)
    suite_path.write_text(json.dumps(suite))
    # beta: the DAG file no longer parses
    dag = root / "airflow/dags/ingestion/beta_dag.py"
    dag.write_text(dag.read_text().replace("with DAG(", "with DAG((", 1))
    # gamma: a DDL that lost a column, and an unused import ruff finds
    ddl = root / "sql/ddl/ops.gamma.sql"
    ddl.write_text(ddl.read_text().replace("  `label` STRING,\n", ""))
    job = root / "src/ingestion/gamma.py"
    job.write_text("import shutil\n" + job.read_text())
    # delta: its spec changed after generation
    spec = root / "pipelines/delta.yaml"
    spec.write_text(spec.read_text().replace("max: 100", "max: 1000"))
    # epsilon: the orchestration triggers a DAG that does not exist (Airflow does not check)
    orchestration = root / "airflow/dags/orchestration/orchestration.py"
    orchestration.write_text(
        orchestration.read_text().replace('trigger_dag_id="epsilon"', 'trigger_dag_id="epsilonn"')
    )
    outcome = validate(project, tier="static")
    assert outcome.status == "failed"
    # the run judged HEAD with the breakages on top, and says so
    run = project.tracker.run(outcome.run_id)
    assert (run.git_commit, run.git_dirty) == (head, 1)
    assert outcome.pipelines == {
        "alpha": "failed",
        "beta": "failed",
        "gamma": "failed",
        "delta": "failed",
        "epsilon": "failed",
    }
    checks = by_check(outcome)
    alpha = checks[("alpha", "suite", "GX suite loads")]
    assert alpha.outcome == "failed"
    assert (
        "expect_column_values_to_be_purple" in alpha.detail
        and "does not load in GX" in alpha.detail
    )
    assert "min_value 50 > max_value 5" in alpha.detail
    assert alpha.payload == {"loaded": 2}
    beta_parse = checks[("beta", "parse", "python parses")]
    assert (
        beta_parse.outcome == "failed"
        and "airflow/dags/ingestion/beta_dag.py:" in beta_parse.detail
    )
    assert checks[("beta", "dagbag", "DagBag import")].outcome == "failed"
    assert checks[("beta", "dag", "DAG structure")].detail == "no DAG with id 'beta'"
    gamma_ddl = checks[("gamma", "ddl", "DDL parses and matches the spec")]
    assert gamma_ddl.outcome == "failed" and "label" in gamma_ddl.detail
    gamma_lint = checks[("gamma", "lint", "ruff")]
    assert gamma_lint.outcome == "failed" and "src/ingestion/gamma.py:1: F401" in gamma_lint.detail
    delta = checks[("delta", "sync", "spec and files in sync")]
    assert delta.outcome == "failed" and delta.payload == {"state": "out of date"}
    epsilon = checks[("epsilon", "dag", "orchestration")]
    assert epsilon.outcome == "failed" and "'epsilonn', which is no DAG" in epsilon.detail
    # what was not broken still passed
    assert checks[("alpha", "dagbag", "DagBag import")].outcome == "passed"
    assert checks[("delta", "suite", "GX suite loads")].outcome == "passed"
    met, lines = validations_green(project, "4")
    assert not met and any(line.startswith("alpha: failed") for line in lines)
    project.close()


def _edit_json(path, change) -> None:
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data, indent=2))


def _add_reference(suite: dict, pipeline: str) -> None:
    suite["expectations"].append(
        {
            "type": "expect_column_values_to_be_in_set",
            "kwargs": {"column": "label", "value_set": {"$PARAMETER": "references_label_values"}},
            "meta": {"rule": "references_label"},
            "severity": "critical",
        }
    )
    suite["meta"]["parameters"]["references_label_values"] = {
        "kind": "references",
        "pipeline": pipeline,
        "table": "ops.x",
        "column": "label",
    }


# (pipeline, file kind, the edit, the check that fails, what its detail says)
GX_BREAKAGES = [
    (
        "ckpt",
        "checkpoint",
        lambda d: d["validation_definitions"][0].update(name="ckpt_old"),
        "GX checkpoint",
        "great_expectations/checkpoints/ckpt.json: validation_definitions [{'id': ",
    ),
    (
        "vdef",
        "validation",
        lambda d: d["suite"].update(id="00000000-0000-0000-0000-000000000000"),
        "GX checkpoint",
        "great_expectations/validation_definitions/vdef.json: suite {'id': '00000000-0000-0000-"
        "0000-000000000000', 'name': 'vdef'} is not great_expectations/expectations/vdef.json",
    ),
    (
        "docs",
        "checkpoint",
        lambda d: d.update(actions=[]),
        "GX checkpoint",
        "great_expectations/checkpoints/docs.json: actions do not update the Data Docs",
    ),
    (
        "batch",
        "validation",
        lambda d: d["data"]["batch_definition"].update(name="nightly"),
        "GX checkpoint",
        "great_expectations/checkpoints/batch.json: does not load in GX: ",
    ),
    (
        "share",
        "suite",
        lambda d: d["expectations"][0]["kwargs"].update(mostly=0),  # GX itself accepts 0
        "GX suite loads",
        "expectation 1 (expect_column_values_to_not_be_null): mostly 0 is not in (0, 1]",
    ),
    (
        "most",
        "suite",
        lambda d: d["expectations"][0]["kwargs"].update(mostly=1.5),
        "GX suite loads",
        "expectation 1 (expect_column_values_to_not_be_null): does not load in GX: "
        "ValidationError: 2 validation errors for ExpectColumnValuesToNotBeNull mostly ensure "
        "this value is less than or equal to 1.0",
    ),
    (
        "envs",
        "suite",
        lambda d: (
            d["expectations"][1]["kwargs"].update(max_value={"$PARAMETER": "between_id_max"}),
            d["meta"]["parameters"].update(
                between_id_max={"kind": "environment", "values": {"production": 0}}
            ),
        ),
        "GX suite loads",
        "expectation 2 (expect_column_values_to_be_between): min_value 1 > max_value 0 in "
        "production",
    ),
    (
        "param",
        "suite",
        lambda d: d["expectations"][1]["kwargs"].update(min_value={"$PARAMETER": "floor"}),
        "GX suite loads",
        "min_value is the parameter 'floor', which meta.parameters does not describe",
    ),
    (
        "refs",
        "suite",
        lambda d: _add_reference(d, "nope"),
        "GX suite loads",
        "expectation 3 (expect_column_values_to_be_in_set): references the pipeline 'nope', "
        "which does not exist",
    ),
]


def test_each_gx_breakage_is_found_and_named(tmp_path):
    """The suite, validation definition and checkpoint of each pipeline are checked as a chain,
    by name and id as GX resolves them, and then loaded by GX itself."""
    names = [name for name, *_ in GX_BREAKAGES]
    project = make_solution(tmp_path / "ops", {n: PLAIN.format(name=n) for n in [*names, "fine"]})
    from pipelines.codegen import pipeline_paths
    from pipelines.spec import load_specs

    paths = {spec.name: pipeline_paths(spec) for spec in load_specs(project.root)}
    for name, kind, edit, _, _ in GX_BREAKAGES:
        _edit_json(project.root / paths[name][kind], edit)
    outcome = validate(project, tier="static")
    checks = by_check(outcome)
    for name, _, _, check, detail in GX_BREAKAGES:
        found = checks[(name, "suite", check)]
        assert found.outcome == "failed", (name, found.detail)
        assert detail in found.detail, (name, found.detail)
    assert checks[("fine", "suite", "GX suite loads")].outcome == "passed"
    fine = checks[("fine", "suite", "GX checkpoint")]
    assert fine.outcome == "passed"
    assert fine.payload == {
        "checkpoint": "fine",
        "actions": ["update_data_docs"],
        "validation_definition": "fine",
        "suite": "fine",
        "data_source": "lake",
        "asset": "fine",
        "batch_definition": "batch",
    }
    # a broken chain elsewhere does not fail the suite of a pipeline whose suite is fine
    assert checks[("ckpt", "suite", "GX suite loads")].outcome == "passed"
    project.close()


def test_schedules_and_triggers_that_differ_from_what_the_specs_say_are_named(tmp_path):
    specs = {
        "alpha": PLAIN.format(name="alpha") + "schedule: '@daily'\n",
        "epsilon": PLAIN.format(name="epsilon") + "depends_on: [alpha]\n",
        "solo": PLAIN.format(name="solo") + "schedule: '@hourly'\n",
    }
    project = make_solution(tmp_path / "ops", specs)
    root = project.root
    clean = validate(project, tier="static")
    checks = by_check(clean)
    assert checks[("alpha", "dag", "schedule")].detail == "@daily by orchestration_alpha"
    assert checks[("epsilon", "dag", "orchestration")].outcome == "passed"
    assert checks[("solo", "dag", "schedule")].detail == "@hourly"
    # the old orchestration: a conf nothing reads, the run's date left to "now", a fixed @daily
    orchestration = root / "airflow/dags/orchestration/orchestration.py"
    text = orchestration.read_text()
    text = text.replace(
        "logical_date=\"{{ logical_date }}\",  # the triggered run's ds is this run's",
        'conf={"date": "{{ ds }}"},',
    ).replace('schedule="@daily"', 'schedule="@weekly"')
    orchestration.write_text(text)
    # epsilon's own DAG scheduled as well: it would run twice
    dag = root / "airflow/dags/ingestion/epsilon_dag.py"
    dag.write_text(dag.read_text().replace("schedule=None", 'schedule="@daily"'))
    outcome = validate(project, tier="static")
    checks = by_check(outcome)
    epsilon = checks[("epsilon", "dag", "orchestration")]
    assert epsilon.outcome == "failed"
    assert "triggers with logical_date" in epsilon.detail and "another date" in epsilon.detail
    assert "passes conf {'date': '{{ ds }}'}, which the pipeline's DAG does not read" in (
        epsilon.detail
    )
    assert checks[("epsilon", "dag", "schedule")].detail == (
        "its DAG's schedule is '@daily', expected None (it runs when orchestration_alpha "
        "triggers it); orchestration_alpha runs on '@weekly', the specs say '@daily'"
    )
    assert checks[("alpha", "dag", "schedule")].outcome == "failed"
    assert checks[("solo", "dag", "schedule")].outcome == "passed"
    project.close()


def test_a_pipeline_that_was_never_generated_is_named_with_the_fix(tmp_path):
    project = make_solution(tmp_path / "ops", {"alpha": PLAIN.format(name="alpha")})
    (project.root / "pipelines" / "late.yaml").write_text(PLAIN.format(name="late"))
    outcome = validate(project, ["late"], tier="static")
    checks = by_check(outcome)
    assert checks[("late", "sync", "generated files")].detail == (
        "not generated yet: run `phasegate generate pipelines`"
    )
    assert {c.outcome for c in outcome.checks if c.step != "sync"} == {"skipped"}
    assert outcome.pipelines == {"late": "failed"}
    project.close()


def test_bad_arguments_are_refused_before_anything_is_stored(tmp_path):
    project = make_solution(tmp_path / "ops", {"alpha": PLAIN.format(name="alpha")})
    with pytest.raises(ValidationError, match=r"unknown pipeline.*nope; the specs are: alpha"):
        validate(project, ["nope"])
    with pytest.raises(ValidationError, match="unknown tier 'medium'"):
        validate(project, tier="medium")
    assert project.tracker.runs() == []
    project.close()


def test_the_ddl_check_parses_for_real(tmp_path):
    project = make_solution(tmp_path / "ops", {"alpha": PLAIN.format(name="alpha")})
    from pipelines.spec import load_specs

    spec = load_specs(project.root)[0]
    text = (project.root / "sql/ddl/ops.alpha.sql").read_text()
    assert ddl_problems(text, spec) == []
    assert ddl_problems(text.replace("CREATE TABLE", "CREATE TABEL"), spec)
    assert ddl_problems(text.replace("BIGINT NOT NULL", "BIGINT"), spec) == [
        "id: BIGINT, expected BIGINT NOT NULL"
    ]
    renamed = ddl_problems(text.replace("`ops`.`alpha`", "`ops`.`beta`"), spec)
    assert renamed == ["creates ops.beta, the spec's table is ops.alpha"]
    project.close()


def test_the_cli_runs_the_same_engine(tmp_path, capsys):
    from cli.main import main

    project = make_solution(tmp_path / "ops", {"alpha": PLAIN.format(name="alpha")})
    root = str(project.root)
    assert main(["-C", root, "validate", "--json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["status"] == "passed" and document["pipelines"] == ["alpha"]
    assert {c["step"] for c in document["checks"]} >= {"sync", "dagbag", "suite", "ddl"}
    assert main(["-C", root, "runs"]) == 0
    assert "static  passed" in capsys.readouterr().out
    assert main(["-C", root, "runs", "show", str(document["id"])]) == 0
    report = capsys.readouterr().out
    assert report.startswith("# ops — static validation run ")
    assert "| ddl | DDL parses and matches the spec | passed |" in report
    assert main(["-C", root, "runs", "show", "99"]) == 1
    assert "no validation run 99" in capsys.readouterr().err
    assert main(["-C", root, "validate", "nope"]) == 1
    assert "unknown pipeline(s) nope" in capsys.readouterr().err
    with pytest.raises(SystemExit) as usage:
        main(["-C", root, "validate", "--rows", "0"])
    assert usage.value.code == 2
    project.close()


def test_a_spec_error_stops_the_run_with_file_and_line(tmp_path, capsys):
    from cli.main import main

    project = make_solution(tmp_path / "ops", {"alpha": PLAIN.format(name="alpha")})
    (project.root / "pipelines" / "alpha.yaml").write_text(
        textwrap.dedent(PLAIN.format(name="alpha")).replace("type: long", "type: lung")
    )
    assert main(["-C", str(project.root), "validate"]) == 1
    assert "alpha.yaml:4" in capsys.readouterr().err
    assert project.tracker.runs() == []
    project.close()


def test_every_kind_of_schedule_loads_in_airflow(tmp_path):
    """The schedules croniter and Airflow accept (presets, L, #) make DAGs that import cleanly;
    @continuous needs max_active_runs=1, which the generated DAG sets."""
    from pipelines.validation.engine import validate

    schedules = {
        "once": "@once",
        "always": "@continuous",
        "lastfri": "0 5 * * L5",
        "secondmon": "0 5 * * 1#2",
        "monthend": "30 23 L * *",
    }
    project = make_solution(
        tmp_path / "sched",
        {
            name: PLAIN.format(name=name) + f"schedule: '{schedule}'\n"
            for name, schedule in schedules.items()
        },
    )
    outcome = validate(project, [], "static")
    failed = [f"{c.pipeline}/{c.step}: {c.detail}" for c in outcome.checks if c.outcome != "passed"]
    assert outcome.ok, failed
    dag = (project.root / "airflow/dags/ingestion/always_dag.py").read_text()
    assert "max_active_runs=1" in dag
    assert (
        "max_active_runs" not in (project.root / "airflow/dags/ingestion/once_dag.py").read_text()
    )
    project.close()


def test_spark_submit_and_assets_are_checked_against_context_and_depends_on(tmp_path):
    """context.yaml chooses spark-submit on a connection; beta and gamma run on alpha's asset.
    One DAG of each kind is broken: the checks name what differs from the choice and the specs."""
    root = tmp_path / "ops"
    project, _ = Project.init(root, clock=fixed_clock)
    generate_scaffold(project)
    context = root / "agent-prompts/context.yaml"
    text = context.read_text()
    assert "      mode: in_process\n" in text  # the scaffold's default
    context.write_text(
        text.replace(
            "      mode: in_process\n", "      mode: spark_submit\n      conn_id: spark_prod\n"
        )
    )
    (root / "pipelines").mkdir()
    specs = {
        "alpha": PLAIN.format(name="alpha") + "schedule: '@daily'\n",
        "beta": PLAIN.format(name="beta") + "depends_on: [alpha]\nscheduling: assets\n",
        "gamma": PLAIN.format(name="gamma") + "depends_on: [alpha]\nscheduling: assets\n",
        "delta": PLAIN.format(name="delta"),
        "epsilon": PLAIN.format(name="epsilon"),
    }
    for name, spec in specs.items():
        (root / "pipelines" / f"{name}.yaml").write_text(spec)
    generate_pipelines(project)
    dags = root / "airflow/dags/ingestion"
    assert not (root / "airflow/dags/orchestration/orchestration.py").exists()
    # gamma waits for a table no pipeline writes
    gamma = dags / "gamma_dag.py"
    gamma.write_text(
        gamma.read_text().replace(
            'Asset("iceberg://ops/ops/alpha")', 'Asset("iceberg://ops/ops/zeta")'
        )
    )
    # delta's publish no longer updates its table's asset
    delta = dags / "delta_dag.py"
    delta.write_text(delta.read_text().replace("@task(outlets=[TABLE])", "@task"))
    # epsilon submits with another connection
    epsilon = dags / "epsilon_dag.py"
    epsilon.write_text(epsilon.read_text().replace('"spark_prod"', '"spark_default"'))
    outcome = validate(project, tier="static")
    checks = by_check(outcome)
    for name in ("alpha", "beta"):
        for check in ("DAG structure", "submission", "assets", "schedule"):
            assert checks[(name, "dag", check)].outcome == "passed", checks[(name, "dag", check)]
    assert outcome.pipelines == {
        "alpha": "passed",
        "beta": "passed",
        "gamma": "failed",
        "delta": "failed",
        "epsilon": "failed",
    }
    submitted = checks[("alpha", "dag", "submission")]
    assert submitted.detail == "SparkSubmitOperator on spark_prod"
    assert submitted.payload["application"] == str((root / "src/ingestion/alpha.py").resolve())
    assert checks[("alpha", "dag", "DAG structure")].detail == (
        "arguments >> ingest >> audit_batch >> check_quality >> publish"
    )
    assert checks[("beta", "dag", "assets")].detail == (
        "publishes iceberg://ops/ops/beta; runs when alpha publish"
    )
    assets = checks[("gamma", "dag", "assets")]
    assert (
        "scheduled on ['iceberg://ops/ops/zeta'], expected all of ['iceberg://ops/ops/alpha']"
        in (assets.detail)
    )
    assert "publish updates no asset, expected ['iceberg://ops/ops/delta']" in (
        checks[("delta", "dag", "assets")].detail
    )
    assert "submits with the connection 'spark_default', context.yaml says 'spark_prod'" in (
        checks[("epsilon", "dag", "submission")].detail
    )
    project.close()
