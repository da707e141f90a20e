"""The default process model against the process document: counts, wording, ids."""

from __future__ import annotations

import re

import pytest

from phases import load_process
from tests.conftest import ROOT

DOCUMENT = (ROOT / "docs" / "process" / "data-solution-delivery-process.md").read_text(
    encoding="utf-8"
)


def _section(title_pattern: str, text: str = DOCUMENT) -> str:
    match = re.search(rf"(?ms)^{title_pattern}\n(.*?)(?=^#{{1,3}} |\Z)", text)
    assert match, title_pattern
    return match.group(1)


def _document_sub_phases() -> dict[str, tuple[str, list[str], list[tuple[str, str]]]]:
    """{"1.1": (title, bullets, [(tool, assist text)])} for every ### N.M heading of phases 1-7."""
    found = {}
    for match in re.finditer(r"(?m)^### (\d\.\d) (.+)$", DOCUMENT):
        body = _section(re.escape(match.group(0)))
        bullets, assists = [], []
        for line in body.splitlines():
            assist = re.match(r"^- \*\*With (Claude(?: Code)?):\*\* (.+)$", line)
            if assist:
                assists.append((assist.group(1), assist.group(2).strip()))
            elif line.startswith("- "):
                bullets.append(line[2:].strip())
        found[match.group(1)] = (match.group(2).strip(), bullets, assists)
    return found


@pytest.fixture(scope="module")
def model():
    return load_process()


def test_counts_match_the_document(model):
    assert len(model.phases) == 7
    assert len(model.sub_phases) == 19
    bullets = sum(len(b) for _, b, _ in _document_sub_phases().values())
    assert bullets == 60
    assert len(model.assists) == 15
    assert len(model.deliverables) == 39


def test_phase_and_sub_phase_titles_match_the_document(model):
    phases = dict(re.findall(r"(?m)^## Phase (\d): (.+)$", DOCUMENT))
    assert {p.id: p.title for p in model.phases} == phases
    subs = _document_sub_phases()
    assert [s.id for s in model.sub_phases] == list(subs)
    for sub in model.sub_phases:
        assert sub.title == subs[sub.id][0]


def test_every_bullet_is_an_item_with_its_exact_wording_and_order(model):
    for sub_id, (_, bullets, _) in _document_sub_phases().items():
        if bullets:
            assert [item.text for item in model.sub_phase(sub_id).items] == bullets, sub_id


def test_every_with_claude_line_is_an_assist_on_its_sub_phase(model):
    for sub_id, (_, _, assists) in _document_sub_phases().items():
        assert [(a.tool, a.text) for a in model.sub_phase(sub_id).assists] == assists, sub_id


def test_project_structure_items_cover_each_top_level_folder_of_the_tree(model):
    tree = _section(re.escape("### 3.1 Project Structure"))
    folders = re.findall(r"(?m)^[├└]── ([^\s#]+)", tree)
    assert folders[0] == "agent-prompts/" and len(folders) == 10
    texts = [item.text for item in model.sub_phase("3.1").items]
    assert [t.split(" ")[1] for t in texts] == folders
    # the sub-folders of the tree are named in the item
    assert "executed_prompts/" in texts[0] and "checkpoints/" in texts[4]


def test_pattern_sub_phases_become_concrete_items(model):
    layers = re.findall(
        r"(?m)^\d\. \*\*(.+?):\*\* (.+)$", _section(re.escape("### 4.1 Development Approach"))
    )
    assert [i.text for i in model.sub_phase("4.1").items] == [
        f"{name}: {text}" for name, text in layers
    ]
    assert [i.text.split(":")[0] for i in model.sub_phase("4.2").items] == [
        "Task definition",
        "Prompt execution",
        "Prompt documentation",
    ]
    assert len(model.sub_phase("4.3").items) == 3
    assert "TriggerDagRunOperator" in model.sub_phase("4.3").items[1].text


def test_deliverables_match_the_document_per_phase(model):
    section = DOCUMENT.split("## Document Deliverables by Phase", 1)[1].split("\n## ", 1)[0]
    for match in re.finditer(r"(?ms)^### Phase (\d): .+?\n(.*?)(?=^### |\Z)", section):
        titles = [
            re.sub(r"\s*\(`.+`\)$", "", line[2:]).strip()
            for line in match.group(2).splitlines()
            if line.startswith("- ")
        ]
        assert [d.title for d in model.phase(match.group(1)).deliverables] == titles
    parts = re.findall(r"(?m)^  - `([^`]+)` - (.+)$", section)
    structure = model.deliverable("D3.6")
    assert [
        ("agent-prompts/" + p.path.removeprefix("agent-prompts/"), p.text) for p in structure.parts
    ] == [("agent-prompts/" + path, text) for path, text in parts]


def test_ids_are_stable_shapes_and_unique(model):
    ids = (
        [i.id for i in model.items]
        + [d.id for d in model.deliverables]
        + [a.id for a in model.assists]
    )
    assert len(ids) == len(set(ids))
    for item in model.items:
        assert re.fullmatch(rf"{re.escape(item.sub_phase_id)}\.\d+", item.id)
    for phase in model.phases:
        assert [d.id for d in phase.deliverables] == [
            f"D{phase.id}.{n}" for n in range(1, len(phase.deliverables) + 1)
        ]
    assert model.item("1.1.3").text == "Identify stakeholders and data consumers"
    assert model.deliverable("D1.2").title == "Technical Assessment Report"


def test_every_phase_has_gate_criteria(model):
    for phase in model.phases:
        kinds = [g.kind for g in phase.gate]
        assert {"checklist_complete", "deliverables_approved", "reviewer_approval"} <= set(kinds)
        assert ("validations_green" in kinds) == (phase.id in ("4", "5"))


def test_assist_prompt_names_the_sub_phase_and_its_checklist(model):
    prompt = model.assist_prompt_for(model.assist("A2.2"))
    assert "2.2 Data Modeling" in prompt
    assert "- Define Iceberg table schemas and partitioning" in prompt
    assert prompt.rstrip().endswith("Generate DDL, optimize schemas, create naming conventions.")


def test_the_cached_default_equals_a_fresh_parse_and_spares_yaml(tmp_path):
    import os
    import subprocess
    import sys

    fresh = load_process(use_cache=False)
    load_process()  # writes the cache
    assert load_process() == fresh
    code = "import sys; from phases import load_process; m = load_process(); print(len(m.items), 'yaml' in sys.modules)"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, cwd=ROOT
    ).stdout
    assert out.split() == ["80", "False"]


def test_a_corrupt_cache_is_ignored(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    load_process()
    (cached,) = (tmp_path / "phasegate").glob("process-*.pickle")
    cached.write_bytes(b"not a pickle")
    assert len(load_process().items) == 80
    assert cached.read_bytes() != b"not a pickle"  # rewritten


def test_the_cache_lives_where_the_platform_keeps_caches(monkeypatch, tmp_path):
    from phases.loader import cache_dir

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache_dir() == tmp_path / "xdg" / "phasegate"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert cache_dir() == tmp_path / "home" / ".cache" / "phasegate"
