"""Every `--json` document has the documented, versioned shape: each is built by the domain from
real projects (the demo, a stored validation run, a generation plan) and checked against its JSON
Schema in docs/schemas/, which docs/json.md describes."""

from __future__ import annotations

import json

import pytest
from jsonschema import Draft202012Validator

from cli.main import main
from deliverables import json_documents as documents
from deliverables.day import day_view
from deliverables.store import CheckRecord
from pipelines.generate import generation_document
from pipelines.scaffold import generate_scaffold
from tests.conftest import ROOT

SCHEMAS = ROOT / "docs" / "schemas"
NAMES = sorted(p.name.removesuffix(".schema.json") for p in SCHEMAS.glob("*.schema.json"))


def schema(name: str) -> Draft202012Validator:
    loaded = json.loads((SCHEMAS / f"{name}.schema.json").read_text())
    Draft202012Validator.check_schema(loaded)
    return Draft202012Validator(loaded)


def valid(name: str, document: dict) -> dict:
    errors = [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
        for e in schema(name).iter_errors(document)
    ]
    assert errors == []
    assert (document["document"], document["version"]) == (name, documents.VERSION)
    return document


@pytest.fixture
def with_run(demo):
    """The demo with one stored static run (recorded through the tracker, as the engine does)."""
    tracker = demo.tracker
    run = tracker.start_run("static", ["pos_orders"], "0" * 40, False)
    tracker.add_checks(
        [
            CheckRecord(run, "pos_orders", "parse", "python parses", "passed", "", "{}", 0.2),
            CheckRecord(run, "pos_orders", "suite", "rules", "failed", "bad", '{"rows": 3}', None),
        ]
    )
    tracker.finish_run(run, "failed", "1 failed", {"airflow": "3.3.2"})
    return demo, run


def test_every_document_matches_its_schema(with_run):
    demo, run = with_run
    valid("status", documents.status_document(demo))
    valid("runs", documents.runs_document(demo))
    demo.tracker.start_run("full", ["pos_orders"], None, None)  # one still running
    runs = valid("runs", documents.runs_document(demo))["runs"]
    newest = runs[0]
    assert (newest["status"], newest["finished_at"], newest["git_dirty"]) == ("running", None, None)
    document = valid("run", documents.run_document(demo, run))
    assert [c["outcome"] for c in document["checks"]] == ["passed", "failed"]
    assert document["git_dirty"] is False and document["checks"][1]["data"] == {"rows": 3}
    for phase in ("1", "2", "3"):
        valid("gate", documents.gate_document(demo, phase))
    reviews = valid("gate_reviews", documents.gate_reviews_document(demo))
    assert reviews["reviews"]  # the demo passed phase 1's gate
    waivers = valid("waivers", documents.waivers_document(demo))
    assert waivers["waivers"]
    valid("deliverable_facts", documents.facts_document(demo, ["D1.1", "D2.5", "D5.3"]))
    day = valid("day", documents.day_document(demo, day_view(demo, since="2026-11-20T00:00:00Z")))
    assert day["changes"] and day["today"] == "2026-11-27"
    # the demo's concurrent edit (Ben's done, Dana's blocked on her second machine) is listed
    assert [(c["item"], c["field"]) for c in day["conflicts"]] == [("3.2.4", "status")]


def test_generation_documents_match_their_schema(project):
    dry = generate_scaffold(project, dry_run=True)
    document = valid(
        "generation", generation_document("scaffold", dry.plan, dry_run=True, ticked=dry.ticked)
    )
    assert all("diff" in f for f in document["files"] if f["state"] == "new")
    done = generate_scaffold(project, dry_run=False)
    document = valid(
        "generation",
        generation_document(
            "scaffold", done.plan, dry_run=False, ticked=done.ticked, drafted=done.drafted
        ),
    )
    assert not any("diff" in f for f in document["files"]) and document["ticked"]


@pytest.mark.parametrize(
    ("command", "name", "code"),
    [
        (["status", "--json"], "status", 0),
        (["runs", "--json"], "runs", 0),
        (["runs", "show", "1", "--json"], "run", 0),
        (["gate", "status", "1", "--json"], "gate", 0),
        (["gate", "status", "2", "--json"], "gate", 1),  # the demo's phase 2 gate fails
        (["gate", "history", "--json"], "gate_reviews", 0),
        (["waiver", "list", "--json"], "waivers", 0),
        (["deliverable", "facts", "D1.1", "--json"], "deliverable_facts", 0),
        (["today", "--json"], "day", 0),
        (["generate", "pipelines", "--dry-run", "--json"], "generation", 0),
        (["pipelines", "--json"], "pipelines", 0),
    ],
)
def test_the_cli_prints_the_documents(with_run, capsys, command, name, code):
    demo, _ = with_run
    assert main(["-C", str(demo.root), *command]) == code
    valid(name, json.loads(capsys.readouterr().out))


def test_the_schemas_are_strict_and_each_is_described():
    described = (ROOT / "docs" / "json.md").read_text()
    assert (
        sorted(
            [
                "status",
                "runs",
                "run",
                "gate",
                "gate_reviews",
                "waivers",
                "deliverable_facts",
                "day",
                "generation",
                "branches",
                "pipelines",
                "publish",
            ]
        )
        == NAMES
    )
    for name in NAMES:
        assert f"`{name}`" in described and f"schemas/{name}.schema.json" in described
        # a field the schema does not know is refused: a new field means a documented change
        document = {"document": name, "version": 1, "unknown": True}
        assert any(
            e.validator == "additionalProperties" for e in schema(name).iter_errors(document)
        )
        assert not schema(name).is_valid({**document, "version": 2})
