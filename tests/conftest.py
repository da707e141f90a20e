"""Shared fixtures: real projects in temporary folders, a fixed clock, a fixed identity."""

from __future__ import annotations

import os
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


@pytest.fixture
def project(tmp_path: Path):
    """A fresh, empty project with a fixed clock."""
    created, _ = Project.init(tmp_path / "acme-platform", clock=fixed_clock)
    yield created
    created.close()


@pytest.fixture
def demo(tmp_path: Path):
    """The demo project (realistic partial progress) with a fixed clock."""
    created = create_demo(tmp_path / "retail-events", clock=fixed_clock)
    yield created
    created.close()


@pytest.fixture(scope="session")
def spark():
    """One local Spark session for the tests that run generated jobs in this process, with the
    settings of the full tier's (pipelines.validation.full.spark_session)."""
    from pipelines.validation.full import spark_session

    session = spark_session()
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()
