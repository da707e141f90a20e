"""Issue 9 §7: a catalog password never reaches the validation child's command line (where `ps`
shows it to every user), and is masked wherever a URI is shown or stored."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from phases.text import mask_secrets, mask_uri, uri_secrets
from pipelines.validation.engine import validate
from tests.test_validation_static import PLAIN, make_solution

PASSWORD = "S3cr3t-Pa55"
URI = f"postgresql+psycopg://lake_user:{PASSWORD}@127.0.0.1:5432/lake"


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        (URI, "postgresql+psycopg://lake_user:***@127.0.0.1:5432/lake"),
        ("postgresql://u:p@h/db", "postgresql://u:***@h/db"),
        ("mysql+pymysql://root:p%40ss%3Aw@db:3306/x", "mysql+pymysql://root:***@db:3306/x"),
        ("s3a://AKIA:abc+/def@bucket/x", "s3a://AKIA:***@bucket/x"),
        ("connect to postgresql://u:pw@h/db failed", "connect to postgresql://u:***@h/db failed"),
        ("a=postgresql://u:1@h b=mysql://v:2@k", "a=postgresql://u:***@h b=mysql://v:***@k"),
        ("postgresql://u@h/db", "postgresql://u@h/db"),  # no password: unchanged
        ("postgresql://h:5432/db", "postgresql://h:5432/db"),  # a port is not a password
        ("sqlite:////tmp/lake/catalog.db", "sqlite:////tmp/lake/catalog.db"),
        ("plain text with user:pass@host", "plain text with user:pass@host"),
    ],
)
def test_passwords_in_uris_are_masked(text, masked):
    assert mask_uri(text) == masked


@pytest.mark.parametrize(
    ("uri", "secrets"),
    [
        (URI, (PASSWORD,)),
        ("postgresql://u:p%40ss@h/db", ("p%40ss", "p@ss")),
        ("postgresql://u@h/db", ()),
        ("sqlite:///x.db", ()),
        ("not a uri", ()),
    ],
)
def test_a_password_quoted_alone_is_masked_too(uri, secrets):
    assert uri_secrets(uri) == secrets
    for secret in secrets:
        assert mask_secrets(f"auth failed for {secret}!", secrets) == "auth failed for ***!"


def test_the_catalog_uri_reaches_the_child_through_its_environment_not_argv(tmp_path):
    project = make_solution(tmp_path / "retail", {"orders": PLAIN.format(name="orders")})
    seen: dict[str, bytes] = {}

    def listener(event: dict) -> None:
        if event.get("event") == "subprocess":
            proc = Path("/proc") / str(event["pid"])
            # right after a vfork'd exec the new argv may not be in place yet: read until it is
            for _ in range(500):
                seen["cmdline"] = (proc / "cmdline").read_bytes()
                if seen["cmdline"]:
                    break
                time.sleep(0.01)
            seen["environ"] = (proc / "environ").read_bytes()

    outcome = validate(project, tier="static", catalog_uri=URI, listener=listener)
    assert outcome.status == "passed", [(c.check_name, c.detail) for c in outcome.checks]
    assert b"pipelines.validation.child" in seen["cmdline"]
    assert PASSWORD.encode() not in seen["cmdline"]
    assert f"PHASEGATE_CATALOG_URI={URI}".encode() in seen["environ"].split(b"\0")
    assert PASSWORD not in outcome.log_path.read_text()
    assert outcome.checks  # what the engine stored
    assert not any(PASSWORD in c.detail + c.data for c in outcome.checks)
    project.close()
