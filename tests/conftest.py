"""Shared fixtures: real projects in temporary folders, a fixed clock, a fixed identity."""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

# Times on screen are local: pin the zone so snapshots and reports read the same everywhere.
os.environ["TZ"] = "UTC"
time.tzset()
os.environ["PHASEGATE_USER"] = "Test Engineer <test@example.com>"
os.environ["XDG_CACHE_HOME"] = tempfile.mkdtemp(prefix="phasegate-test-cache-")
# the TUI's config.toml (keymap, theme) is the user's: tests read and write their own
os.environ["XDG_CONFIG_HOME"] = tempfile.mkdtemp(prefix="phasegate-test-config-")
# The machine's git configuration stays out: a global signing setting, hook path or default
# branch would change commit ids in snapshots and what a commit does. Every git the tests run,
# in this process or a child, reads this file instead (and no system file).
_GIT_CONFIG = Path(tempfile.mkdtemp(prefix="phasegate-test-git-")) / "gitconfig"
_GIT_CONFIG.parent.chmod(0o755)  # readable by the `nobody` some tests run commands as
_GIT_CONFIG.write_text(
    "[user]\n\tname = Git Tester\n\temail = git-tester@example.com\n"
    "[init]\n\tdefaultBranch = main\n"
    "[commit]\n\tgpgsign = false\n[tag]\n\tgpgsign = false\n"
)
os.environ["GIT_CONFIG_GLOBAL"] = str(_GIT_CONFIG)
os.environ["GIT_CONFIG_NOSYSTEM"] = "1"
for _variable in (
    "GIT_DIR",
    "GIT_WORK_TREE",
    "GIT_INDEX_FILE",
    "GIT_AUTHOR_NAME",
    "GIT_COMMITTER_NAME",
):
    os.environ.pop(_variable, None)

from deliverables import Project  # noqa: E402
from deliverables.demo import create_demo  # noqa: E402

NOW = datetime(2026, 11, 27, 9, 30, tzinfo=UTC)
ROOT = Path(__file__).resolve().parents[1]


def fixed_clock() -> datetime:
    return NOW


@pytest.fixture(scope="session")
def project_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh project `Project.init` made, once per test process; tests get copies of it."""
    root = tmp_path_factory.mktemp("project-template") / "acme-platform"
    Project.init(root, clock=fixed_clock)[0].close()
    return root


@pytest.fixture
def project(tmp_path: Path, project_template: Path):
    """A fresh, empty project with a fixed clock: a copy of its own."""
    created = Project.open(
        copy_project(project_template, tmp_path / "acme-platform"), clock=fixed_clock
    )
    yield created
    created.close()


@pytest.fixture(scope="session")
def demo_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo, built once per test process on the fixed clock; tests get copies of it (see
    `copy_project`), never this folder."""
    root = tmp_path_factory.mktemp("demo-template") / "retail-events"
    create_demo(root, clock=fixed_clock).close()
    return root


@pytest.fixture
def demo(tmp_path: Path, demo_template: Path):
    """The demo project (realistic partial progress) with a fixed clock: a copy of its own."""
    created = Project.open(
        copy_project(demo_template, tmp_path / "retail-events"), clock=fixed_clock
    )
    yield created
    created.close()


def copy_project(template: Path, root: Path) -> Path:
    """A copy of a closed project (its git repository and tracker included) at `root`: the same
    files the template's build wrote, for a fraction of the cost of building it again. The
    copies' files are new (shutil.copy, not copy2), as if written now."""
    shutil.copytree(template, root, symlinks=True, copy_function=shutil.copy)
    return root


@pytest.fixture(scope="session")
def spark():
    """One local Spark session for the tests that run generated jobs in this process, with the
    settings of the full tier's (pipelines.validation.full.spark_session)."""
    from pipelines.validation.full import spark_session
    from tests.helpers.unmeasured import COVERAGE_VARIABLES

    # the JVM, and the Python workers it starts, run generated code only: coverage would only
    # slow them (see tests/helpers/unmeasured.py); this process stays measured
    saved = {key: os.environ.pop(key) for key in COVERAGE_VARIABLES if key in os.environ}
    try:
        session = spark_session()
    finally:
        os.environ.update(saved)
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


# --- the order two xdist workers take the tests in ---------------------------------------------
# `make test` runs `pytest -n 2 --dist loadgroup --no-loadscope-reorder`: each worker takes the
# next test (or group) in this order when it is free. The tests that start engines come first,
# the longest first, so that the two workers end together instead of one running a 5-minute test
# alone at the end; the tests sharing a module fixture that runs an engine are one group (one
# worker, one run of the fixture). Seconds: `make test PYTEST_ARGS=--durations=60`, 21:00-21:45
# at load ~10 (a quiet machine takes about 0.4 of them).
FIRST = (
    "tests/test_validation_full.py::test_a_crash",  # `failing`: 434 s set-up + 60 s
    "tests/test_cli_validate.py::test_the_full_tier_from_the_shell",  # 344 s
    "tests/test_profile_full.py",  # 290 s
    "tests/test_generated_ci.py",  # 276 s (its virtualenv built once per machine)
    "tests/test_profile_s3.py",  # `s3`: ~200 s (a 50 MB CSV profiled from disk and from S3)
    "tests/test_cluster.py",  # 254 s
    "tests/test_validation_full.py::test_synthesized",  # `passing`: 186 s set-up + 40 s
    "tests/test_dag_modes.py",  # 208 s; + Spark Connect (one server) 15 + 53 + 44 s, + 59 s
    "tests/test_codegen.py::test_the_generated_job_tests_pass_on_real_spark",  # 116 s
    "tests/test_validation_static.py",  # 7 tests of 45-110 s
    "tests/test_cluster_write.py",  # 250 s in 6 tests
    "tests/test_profile.py",
    "tests/test_codegen.py",
    "tests/test_validation_full.py",
    "tests/test_scaffold.py",
    "tests/test_import_hygiene.py",
    # an engine in a child process: the Profiles screen's real profile run (27-44 s), the
    # Validation screen's runs (a full run cancelled: 18 s), the static tier on a secret's URI
    "tests/test_tui_profile.py::test_u_profiles",
    "tests/test_tui_validation.py",
    "tests/test_secrets.py",
)
# module fixtures that run an engine: the tests using one go to one worker together
ENGINE_FIXTURES = {
    ("tests/test_validation_full.py", "passing"),
    ("tests/test_validation_full.py", "failing"),
    ("tests/test_profile_s3.py", "s3"),  # moto's server, and the 50 MB file uploaded to it
    ("tests/test_dag_modes.py", "spark_connect"),  # one Spark Connect server
}


def _rank(item: pytest.Item) -> int:
    for rank, prefix in enumerate(FIRST):
        if item.nodeid.startswith(prefix):
            return rank
    return len(FIRST)


@pytest.hookimpl(tryfirst=True)  # before xdist reads the groups
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        module = item.nodeid.split("::", 1)[0]
        for name in item.fixturenames:
            if (module, name) in ENGINE_FIXTURES:
                item.add_marker(pytest.mark.xdist_group(f"{module}:{name}"))
    # a stable sort by rank: the tests of one module keep their order; a group's tests all take
    # the rank of its first-ranked test
    group_rank: dict[str, int] = {}
    for item in items:
        for mark in item.iter_markers("xdist_group"):
            group_rank[mark.args[0]] = min(group_rank.get(mark.args[0], len(FIRST)), _rank(item))

    def rank(item: pytest.Item) -> int:
        groups = [group_rank[m.args[0]] for m in item.iter_markers("xdist_group")]
        return min(groups) if groups else _rank(item)

    items.sort(key=rank)
