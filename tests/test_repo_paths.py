"""Issue 9 §2: one `inside_repo` for every read and write of a path a person or a spec gives.
`..`, absolute paths, `~`, `file:` URIs in every spelling, symlinked folders and every match of
a glob are resolved and refused when they end outside the repository; remote schemes pass by an
explicit list."""

from __future__ import annotations

from pathlib import Path

import pytest

from deliverables import Project, TrackerError
from deliverables.day import standup_path
from deliverables.documents import create_document, new_adr
from deliverables.paths import OutsideRepo, inside_repo, local_or_remote
from deliverables.report import status_report_path
from deliverables.validations import run_log_path, run_report_path
from pipelines import SpecError, load_spec
from pipelines.codegen import generate_pipelines
from pipelines.errors import GenerationError
from tests.conftest import fixed_clock
from tests.test_pipeline_spec import STORE_MASTER


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A repository with a link out (`landing/out` → ../outside) and a link in."""
    outside = tmp_path / "outside"
    (outside / "deep").mkdir(parents=True)
    (outside / "secret.csv").write_text("password\n")
    (outside / "deep" / "secret.csv").write_text("password\n")
    root = tmp_path / "repo"
    (root / "landing" / "real").mkdir(parents=True)
    (root / "landing" / "real" / "secret.csv").write_text("a\n")
    (root / "landing" / "out").symlink_to(outside)
    (root / "landing" / "in").symlink_to(root / "landing" / "real")
    (root / "escape.csv").symlink_to(outside / "secret.csv")
    return root


INSIDE = [
    "landing/real/secret.csv",
    "./landing/real/secret.csv",
    "landing//real/secret.csv",
    "landing/in/secret.csv",  # a link that stays inside
    "landing/real/../real/secret.csv",
    "not/there/yet.md",  # writes: the file need not exist
    ".",
]
OUTSIDE = [
    "..",
    "../outside/secret.csv",
    "landing/../../outside/secret.csv",
    "/etc/passwd",
    "//etc/passwd",
    "~/.ssh/id_rsa",
    "landing/out/secret.csv",  # through a symlinked folder
    "landing/out/deep/new.md",  # a write through it
    "landing/out",
    "escape.csv",  # a symlinked file
]


@pytest.mark.parametrize("path", INSIDE)
def test_paths_that_stay_inside_pass(repo, path):
    assert inside_repo(repo, path).is_relative_to(repo.resolve())


@pytest.mark.parametrize("path", OUTSIDE)
def test_paths_that_leave_are_refused(repo, path):
    with pytest.raises(OutsideRepo, match="leaves the repository"):
        inside_repo(repo, path)


@pytest.mark.parametrize(
    "location",
    [
        "file:/etc/passwd",
        "file:///etc/passwd",
        "FILE:///etc/passwd",
        "File:/etc/passwd",
        "file://localhost/etc/passwd",
        "file:%2Fetc%2Fpasswd",
        "file:///%65tc/passwd",
        "file:landing/out/secret.csv",
        "landing/*/secret.csv",  # a glob whose matches go through the link out
        "landing/o?t/secret.csv",
        "landing/[o]ut/deep/*.csv",
        "landing/**/secret.csv",
        "*.csv",  # matches escape.csv, a link out
    ],
)
def test_file_uris_and_globs_are_local_paths_checked_like_any(repo, location):
    with pytest.raises(OutsideRepo):
        local_or_remote(repo, location)


@pytest.mark.parametrize(
    "location",
    [
        "landing/{out,real}/secret.csv",  # Hadoop alternatives: Python's glob lists nothing
        "landing/{out}/secret.csv",
        "landing/[^r]ut/secret.csv",  # Hadoop negation
        "landing/[!r]ut/secret.csv",
        "landing/o\\ut/secret.csv",  # an escape
        "file:landing/{out,in}/secret.csv",
    ],
)
def test_glob_syntax_only_spark_knows_is_refused(repo, location):
    """Spark's reader (Hadoop's globs) reads `{a,b}`, `[^a]` and escapes; phasegate's check
    cannot list their matches, so a link out would go unseen."""
    with pytest.raises(OutsideRepo, match="is not allowed in a local path"):
        local_or_remote(repo, location)


@pytest.mark.parametrize(
    "location",
    ["ftp://host/x.csv", "http://host/x.csv", "HTTPS://host/x", "jdbc:postgresql://h/db", "data:x"],
)
def test_other_schemes_are_refused(repo, location):
    with pytest.raises(OutsideRepo, match="is not allowed"):
        local_or_remote(repo, location)


@pytest.mark.parametrize(
    ("location", "local"),
    [
        ("s3://bucket/landing/*.csv", False),
        ("S3A://bucket/x.parquet", False),
        ("gs://bucket/x", False),
        ("abfss://c@account.dfs.core.windows.net/x", False),
        ("hdfs://namenode/x", False),
        ("file:landing/real/secret.csv", True),
        ("FILE:landing/in/secret.csv", True),
        ("landing/real/*.csv", True),
        ("landing/in/*.csv", True),
    ],
)
def test_remote_schemes_and_local_paths_inside_pass(repo, location, local):
    assert (local_or_remote(repo, location) is not None) == local


def _spec(root: Path, source: str) -> Path:
    path = root / "pipelines" / "store_master.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(STORE_MASTER.replace("landing/stores.parquet", source))
    return path


LOOPS = [
    "loop/self",  # a link to itself
    "loop/a",  # a -> b -> a
    "loop/a/data.csv",  # a file under a looping folder
    "loop/../loop/b",
]


@pytest.fixture
def looping(repo: Path) -> Path:
    (repo / "loop").mkdir()
    (repo / "loop" / "self").symlink_to(repo / "loop" / "self")
    (repo / "loop" / "a").symlink_to(repo / "loop" / "b")
    (repo / "loop" / "b").symlink_to(repo / "loop" / "a")
    return repo


@pytest.mark.parametrize("path", LOOPS)
def test_a_symlink_loop_is_refused_with_a_line_not_a_traceback(looping, path):
    with pytest.raises(OutsideRepo, match="cannot be resolved") as caught:
        inside_repo(looping, path, what="source")
    assert str(caught.value).startswith(f"source {path!r}")


@pytest.mark.parametrize("source", ["loop/self", "loop/a/data.csv"])
def test_a_spec_source_through_a_symlink_loop_names_file_line_and_field(looping, source):
    path = _spec(looping, source)
    with pytest.raises(SpecError) as caught:
        load_spec(path, looping)
    assert (caught.value.line, caught.value.field) == (2, "source.path"), str(caught.value)


@pytest.mark.parametrize(
    "source",
    [
        "file:/etc/passwd",
        "FILE:///etc/passwd",
        "'landing/*/secret.csv'",
        "landing/out/secret.csv",
        "escape.csv",
        "ftp://host/x",
        '"landing/real/x.csv\\nfoo"',
        '"landing/\\e]52;c;aGk=\\a.csv"',
    ],
)
def test_a_spec_source_outside_the_repository_names_file_line_and_field(repo, source):
    path = _spec(repo, source)
    with pytest.raises(SpecError) as caught:
        load_spec(path, repo)
    assert (caught.value.line, caught.value.field) == (2, "source.path"), str(caught.value)
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize("option", ["path", "PATH", "paths", "basePath"])
def test_a_reader_option_cannot_name_other_files(repo, option):
    path = _spec(repo, f"landing/real/secret.csv, options: {{{option}: /etc/passwd}}")
    with pytest.raises(SpecError, match=f"source.options.{option}: names files to read"):
        load_spec(path, repo)


def test_a_spec_sample_outside_the_repository_is_refused(repo):
    path = _spec(repo, "s3://bucket/x.parquet, sample: landing/out/secret.csv")
    with pytest.raises(
        SpecError, match=r"source.sample: .*leaves the repository .* through a link"
    ):
        load_spec(path, repo)


# --- writes ---------------------------------------------------------------------------------------


@pytest.fixture
def project(tmp_path: Path):
    created, _ = Project.init(tmp_path / "solution", clock=fixed_clock)
    yield created
    created.close()


@pytest.fixture
def elsewhere(tmp_path: Path) -> Path:
    folder = tmp_path / "elsewhere"
    folder.mkdir()
    return folder


@pytest.mark.parametrize("folder", ["sql", "sql/ddl", "agent-prompts", "docs/architecture"])
def test_generation_never_writes_through_a_symlinked_folder(project, elsewhere, folder):
    link = project.root / folder
    link.parent.mkdir(parents=True, exist_ok=True)
    link.symlink_to(elsewhere)
    (project.root / "pipelines").mkdir()
    (project.root / "pipelines" / "store_master.yaml").write_text(STORE_MASTER)
    with pytest.raises(GenerationError, match=r"leaves the repository .* through a link"):
        generate_pipelines(project)
    assert list(elsewhere.rglob("*")) == []
    assert not (project.root / "src").exists()  # nothing was written anywhere


def test_documents_and_adrs_never_write_through_a_symlinked_folder(project, elsewhere):
    (project.root / "docs").mkdir(exist_ok=True)
    (project.root / "docs" / "phase-1").symlink_to(elsewhere)
    with pytest.raises(TrackerError, match="leaves the repository"):
        create_document(project, "D1.3")
    (project.root / "docs" / "adr").symlink_to(elsewhere)
    with pytest.raises(TrackerError, match="leaves the repository"):
        new_adr(project, "Use Iceberg")
    assert list(elsewhere.iterdir()) == []
    assert project.deliverable_state("D1.3").status == "missing"  # nothing recorded either


@pytest.mark.parametrize(
    "path", ["/etc/passwd", "../x.md", "~/x.md", "out/x.md", "docs/../../x.md", "out"]
)
def test_a_deliverable_path_stays_inside(project, elsewhere, path):
    (project.root / "out").symlink_to(elsewhere)
    with pytest.raises(TrackerError, match=r"inside the repository|leaves the repository"):
        project.set_deliverable("D1.1", path=path)
    assert project.deliverable_state("D1.1").path is None


@pytest.mark.parametrize(
    ("folder", "place"),
    [
        ("docs/reports", lambda p: status_report_path(p)),
        ("docs/validation", lambda p: run_report_path(p, 1)),
        ("docs/standups", lambda p: standup_path(p, p.today())),
        (".phasegate/runs", lambda p: run_log_path(p, 1)),
        ("docs", lambda p: status_report_path(p, "2")),
    ],
)
def test_documents_phasegate_places_itself_stay_inside(project, elsewhere, folder, place):
    link = project.root / folder
    link.parent.mkdir(parents=True, exist_ok=True)
    if link.exists():
        link.rmdir()
    link.symlink_to(elsewhere)
    with pytest.raises(TrackerError, match=r"leaves the repository .* through a link"):
        place(project)
