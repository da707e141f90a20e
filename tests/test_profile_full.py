"""The must-hold of profiling (issue 15): the spec the profiler drafts passes `generate pipelines`
and the static tier as it is; on the real full tier (Spark job, Iceberg, GX checkpoint,
dag.test()) its suggested rules pass on the data they were drawn from, and on a copy with planted
defects they fail on exactly the rules those defects break."""

from __future__ import annotations

from datetime import UTC, datetime

from deliverables import Project
from pipelines.codegen import generate_pipelines
from pipelines.profiling.outputs import write_outputs
from pipelines.scaffold import generate_scaffold
from pipelines.validation.engine import validate
from tests.conftest import fixed_clock
from tests.helpers.unmeasured import COVERAGE_VARIABLES
from tests.test_profile import orders_csv, profile_of


def test_drafted_rules_pass_on_their_data_and_fail_exactly_on_planted_defects(
    spark, tmp_path, monkeypatch
):
    # the full tier's child unmeasured: its code is measured by tests/test_validation_full.py's
    # runs, and coverage would make this one take 1.3-1.6x as long
    for variable in COVERAGE_VARIABLES:
        monkeypatch.delenv(variable, raising=False)
    project, _ = Project.init(tmp_path / "shop", clock=fixed_clock)
    generate_scaffold(project)
    root = project.root
    (root / "landing").mkdir()
    now = datetime.now(UTC).replace(microsecond=0)
    good = orders_csv(60, now)
    (root / "landing/orders.csv").write_text(good)
    profile = profile_of(spark, root, "landing/orders.csv")
    outcome = write_outputs(project, profile)
    assert outcome.spec_state == "new"
    drafted = (root / "pipelines/orders.yaml").read_text()
    rules = [line.strip() for line in drafted.splitlines() if line.strip().startswith("- {rule:")]

    # the same spec over a copy with four planted defects, as a second pipeline
    at = now.strftime("%Y-%m-%d %H:%M:%S")
    day = now.strftime("%d/%m/%Y")
    planted = [
        f"2001,,{at},1.25,2,paid,planted1@example.com,{day},0001,1,note 1",  # null store_id
        f"2002,S01,{at},1.25,2,lost,planted2@example.com,{day},0001,1,note 1",  # unknown status
        f"2003,S01,{at},1.25,999,paid,planted3@example.com,{day},0001,1,note 1",  # quantity
        f"1000,S01,{at},1.25,2,paid,planted4@example.com,{day},0001,1,note 1",  # order_id again
    ]
    (root / "landing/defects.csv").write_text(good + "\n".join(planted) + "\n")
    (root / "pipelines/defects.yaml").write_text(
        drafted.replace("name: orders", "name: defects")
        .replace("table: raw.orders", "table: raw.defects")
        .replace('sample: "landing/orders.csv"', 'sample: "landing/defects.csv"')
    )
    generate_pipelines(project)

    static = validate(project, ["orders", "defects"], tier="static")
    assert static.status == "passed", [
        (c.pipeline, c.check_name, c.detail) for c in static.checks if c.outcome != "passed"
    ]
    full = validate(project, ["orders", "defects"], tier="full")
    problems = {(c.pipeline, c.step, c.check_name) for c in full.checks if c.outcome != "passed"}
    assert not {p for p in problems if p[0] == "orders"}, problems
    quality = {c.check_name for c in full.checks if c.pipeline == "orders" and c.step == "quality"}
    assert len(quality) >= len(rules)  # every suggested rule ran (and max_rejected)
    failed_rules = {name for pipeline, step, name in problems if step == "quality"}
    assert failed_rules == {
        "not_null_store_id",
        "in_set_status",
        "between_quantity",
        "unique_order_id",
    }, problems
    # nothing else failed for the copy but what follows from the failed checks (not published)
    assert {step for _, step, _ in problems} <= {"quality", "publish", "dag_test"}, problems
