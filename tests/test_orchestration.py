"""When each pipeline runs (pipelines.orchestration): linked pipelines form one orchestration DAG
on the schedule their specs agree on; the rest run on their own. Specs that disagree are refused
with the file and the field."""

from __future__ import annotations

import pytest

from pipelines import SpecError, load_specs
from pipelines.orchestration import asset_uri, groups, run_plans
from tests.test_pipeline_spec import _write

SPEC = """\
name: {name}
source: {{path: landing/{name}.csv, format: csv}}
schema:
  - {{name: id, type: string}}
target: {{table: raw.{name}}}
"""


def _specs(tmp_path, pipelines: dict[str, tuple[str | None, list[str]]]):
    for name, (schedule, depends) in pipelines.items():
        text = SPEC.format(name=name)
        if schedule:
            text += f'schedule: "{schedule}"\n'
        if depends:
            text += f"depends_on: [{', '.join(depends)}]\n"
        _write(tmp_path, name, text)
    return load_specs(tmp_path)


@pytest.mark.parametrize(
    ("pipelines", "expected_groups", "plans"),
    [
        (  # alone: its own schedule, its own DAG
            {"a": ("@daily", [])},
            [],
            {"a": ("@daily", "a")},
        ),
        (  # the dependent's cron is the group's: the upstream leaves it out
            {"up": (None, []), "down": ("0 5 * * *", ["up"])},
            [("orchestration_up", ("up", "down"), "0 5 * * *")],
            {"up": ("0 5 * * *", "orchestration_up"), "down": ("0 5 * * *", "orchestration_up")},
        ),
        (  # the same schedule twice is one schedule
            {"up": ("@hourly", []), "down": ("@hourly", ["up"])},
            [("orchestration_up", ("up", "down"), "@hourly")],
            {"up": ("@hourly", "orchestration_up"), "down": ("@hourly", "orchestration_up")},
        ),
        (  # two groups with their own schedules, and a pipeline on its own
            {
                "b1": ("@hourly", []),
                "b2": (None, ["b1"]),
                "a1": (None, []),
                "a2": (None, []),
                "a3": ("@weekly", ["a1", "a2"]),
                "solo": (None, []),
            },
            [
                ("orchestration_a1", ("a1", "a2", "a3"), "@weekly"),
                ("orchestration_b1", ("b1", "b2"), "@hourly"),
            ],
            {
                "a1": ("@weekly", "orchestration_a1"),
                "a3": ("@weekly", "orchestration_a1"),
                "b2": ("@hourly", "orchestration_b1"),
                "solo": (None, "solo"),
            },
        ),
        (  # a diamond is one group, in dependency order
            {
                "top": (None, []),
                "left": (None, ["top"]),
                "right": (None, ["top"]),
                "bottom": ("@daily", ["left", "right"]),
            },
            [("orchestration_top", ("top", "left", "right", "bottom"), "@daily")],
            {"top": ("@daily", "orchestration_top")},
        ),
    ],
)
def test_groups_and_what_runs_when(tmp_path, pipelines, expected_groups, plans):
    specs = _specs(tmp_path, pipelines)
    found = sorted((g.dag_id, g.pipelines, g.schedule) for g in groups(specs))
    assert found == expected_groups
    every = run_plans(specs)
    assert {n: (every[n].schedule, every[n].dag_id) for n in plans} == plans


def test_words_for_the_screen_and_the_data_flow_document(tmp_path):
    specs = _specs(tmp_path, {"up": (None, []), "down": ("0 5 * * *", ["up"]), "solo": (None, [])})
    plans = run_plans(specs)
    assert plans["up"].words() == "At 05:00 · orchestrated"
    assert plans["up"].markdown() == "`0 5 * * *` by orchestration_up"
    assert plans["down"].after == ("up",) and plans["up"].after == ()
    assert plans["solo"].words() == "triggered"
    assert plans["solo"].markdown() == "not scheduled (triggered)"


@pytest.mark.parametrize(
    ("pipelines", "at_fault", "problem"),
    [
        (
            {"up": ("@daily", []), "down": ("0 5 * * *", ["up"])},
            "down",
            "'0 5 * * *' differs from up's '@daily': up, down depend on each other",
        ),
        (  # linked through a third pipeline
            {
                "a": ("@hourly", []),
                "b": ("@hourly", []),
                "c": (None, ["a", "b"]),
                "d": ("@daily", ["c"]),
            },
            "d",
            "'@daily' differs from a's '@hourly'",
        ),
    ],
)
def test_a_group_with_two_schedules_is_refused(tmp_path, pipelines, at_fault, problem):
    with pytest.raises(SpecError) as caught:
        _specs(tmp_path, pipelines)
    assert caught.value.path.endswith(f"pipelines/{at_fault}.yaml")
    assert caught.value.field == "schedule" and problem in caught.value.problem


def test_a_group_scheduled_on_assets_has_no_orchestration(tmp_path):
    """Upstreams keep their own (different) schedules; the downstream waits for their tables."""
    _write(tmp_path, "a", SPEC.format(name="a") + "schedule: '@daily'\n")
    _write(tmp_path, "b", SPEC.format(name="b") + "schedule: '@hourly'\n")
    _write(tmp_path, "c", SPEC.format(name="c") + "depends_on: [a, b]\nscheduling: assets\n")
    specs = load_specs(tmp_path)
    assert groups(specs) == []
    plans = run_plans(specs)
    assert (plans["a"].schedule, plans["a"].dag_id, plans["a"].orchestrated) == (
        "@daily",
        "a",
        False,
    )
    c = plans["c"]
    assert (c.schedule, c.dag_id, c.after, c.on_assets) == (None, "c", ("a", "b"), True)
    assert c.words() == "after a, b publish"
    assert c.markdown() == "when a, b publish (Airflow assets)"
    spec = {s.name: s for s in specs}["c"]
    assert asset_uri("lake", spec) == "iceberg://lake/raw/c"
