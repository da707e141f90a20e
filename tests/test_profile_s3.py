"""S3 sources of `phasegate profile` on a real S3-protocol server: moto's standalone server on
127.0.0.1, started here, reached through PyArrow's S3 filesystem with the standard AWS
environment variables (AWS_ENDPOINT_URL, the access keys, AWS_REGION).

The must-hold: a 50 MB CSV profiled through the server gives the same profile as the same file
on disk (the session's Spark, in this process; the file is made and uploaded once per module)."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from cli.main import main
from pipelines.errors import ProfileError
from pipelines.profiling.compute import profile as compute_profile
from pipelines.profiling.run import assemble
from pipelines.profiling.source import resolve
from tests.helpers.unmeasured import COVERAGE_VARIABLES

NOW = datetime(2026, 11, 27, 9, 30, tzinfo=UTC)
BUCKET = "landing-zone"
BIG_BYTES = 50 * 1024 * 1024
# the profile's facts of where it came from differ by design; everything measured must not
SOURCE_FACTS = ("source", "name", "profiled_at", "timings")


@pytest.fixture(scope="module")
def s3(tmp_path_factory):
    """moto's server on a free port, the AWS environment pointing at it, and a bucket."""
    from moto.server import ThreadedMotoServer
    from pyarrow import fs

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    with pytest.MonkeyPatch.context() as env:
        for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL_S3"):
            env.delenv(name, raising=False)
        env.setenv("AWS_ENDPOINT_URL", f"http://{host}:{port}")
        env.setenv("AWS_ACCESS_KEY_ID", "testing")
        env.setenv("AWS_SECRET_ACCESS_KEY", "testing")
        env.setenv("AWS_REGION", "us-east-1")
        env.setenv("AWS_EC2_METADATA_DISABLED", "true")
        client = fs.S3FileSystem(
            access_key="testing",
            secret_key="testing",
            region="us-east-1",
            endpoint_override=f"{host}:{port}",
            scheme="http",
            allow_bucket_creation=True,
        )
        client.create_dir(BUCKET)
        yield client
    server.stop()


def put(client, key: str, data: bytes) -> None:
    with client.open_output_stream(f"{BUCKET}/{key}") as out:
        out.write(data)


def big_csv(path: Path, size: int = BIG_BYTES) -> None:
    """About 50 MB of orders: an int key, a category, a decimal, a timestamp, an email, and a
    long note (about 680 bytes a row, about 77,000 rows: the bytes of a 50 MB file with a
    quarter of the Spark work of short rows)."""
    rng = random.Random(15)
    stores = [f"S{n:03d}" for n in range(40)]
    start = NOW - timedelta(days=30)
    with path.open("w", encoding="utf-8") as out:
        out.write("order_id,store_id,amount,ordered_at,email,note\n")
        i, written = 0, 0
        while written < size:
            at = (start + timedelta(seconds=i * 3)).strftime("%Y-%m-%d %H:%M:%S")
            line = (
                f"{100000 + i},{rng.choice(stores)},{rng.randint(1, 99999) / 100:.2f},{at},"
                f"user{i % 50000}@example.com,{'' if i % 17 == 0 else 'note ' + str(i % 97)}"
                f" {'x' * rng.randint(500, 700)}\n"
            )
            out.write(line)
            written += len(line)
            i += 1


@pytest.fixture(scope="module")
def uploaded(s3, tmp_path_factory):
    """The 50 MB CSV in a repository folder and under s3://landing-zone/orders/."""
    root = tmp_path_factory.mktemp("s3-profiled")
    local = root / "orders.csv"
    big_csv(local)
    with local.open("rb") as data, s3.open_output_stream(f"{BUCKET}/orders/orders.csv") as out:
        while chunk := data.read(8 << 20):
            out.write(chunk)
    return root


def measured(profile: dict) -> dict:
    return {k: v for k, v in profile.items() if k not in SOURCE_FACTS}


def test_a_50_mb_csv_through_s3_profiles_as_the_same_file_on_disk(spark, uploaded):
    root = uploaded
    local = resolve(root, "orders.csv", None, {})
    remote = resolve(root, f"s3://{BUCKET}/orders/", "csv", {})
    try:
        assert remote.files == (f"s3://{BUCKET}/orders/orders.csv",)
        assert remote.bytes == local.bytes >= BIG_BYTES
        assert Path(remote.local[0]).read_bytes() == (root / "orders.csv").read_bytes()
        on_disk = assemble(root, "orders", local, compute_profile(spark, local, now=NOW), NOW)
        via_s3 = assemble(root, "orders", remote, compute_profile(spark, remote, now=NOW), NOW)
    finally:
        remote.discard()
    assert not Path(remote.staging).exists()  # the temporary copy is gone
    assert via_s3["rows"] == on_disk["rows"] > 70_000
    assert measured(via_s3) == measured(on_disk)
    assert via_s3["source"]["file_names"] == [f"s3://{BUCKET}/orders/orders.csv"]
    assert via_s3["source"]["location"] == f"s3://{BUCKET}/orders/"
    assert {k: v for k, v in via_s3["source"].items() if k not in ("location", "file_names")} == {
        k: v for k, v in on_disk["source"].items() if k not in ("location", "file_names")
    }


def test_prefixes_globs_partitions_and_hidden_objects(s3, tmp_path):
    for key in (
        "sales/dt=2026-11-26/part-0.csv",
        "sales/dt=2026-11-27/part-0.csv",
        "sales/dt=2026-11-27/part-1.json",
        "sales/_SUCCESS",
        "sales/dt=2026-11-27/.part-0.csv.crc",
    ):
        put(s3, key, b"a,b\n1,2\n")
    source = resolve(tmp_path, f"s3://{BUCKET}/sales/*/*.csv", None, {})
    try:
        assert source.format == "csv"
        assert source.files == (
            f"s3://{BUCKET}/sales/dt=2026-11-26/part-0.csv",
            f"s3://{BUCKET}/sales/dt=2026-11-27/part-0.csv",
        )
        assert source.partitions == {"dt": ["2026-11-26", "2026-11-27"]}
        assert source.bytes == 16 and all(Path(p).is_file() for p in source.local)
    finally:
        source.discard()
    whole = resolve(tmp_path, f"s3://{BUCKET}/sales", "csv", {})
    try:  # a prefix: every object under it but the hidden and bookkeeping ones
        assert [f.rsplit("/", 1)[1] for f in whole.files] == [
            "part-0.csv",
            "part-0.csv",
            "part-1.json",
        ]
    finally:
        whole.discard()


@pytest.mark.parametrize(
    ("location", "content", "expected"),
    [
        (
            "s3://landing-zone/missing.csv",
            None,
            "s3://landing-zone/missing.csv: no such object or prefix",
        ),
        (
            "s3://landing-zone/nothing/*.csv",
            None,
            "s3://landing-zone/nothing/*.csv: no object matches",
        ),
        (
            "s3://no-such-bucket/orders.csv",
            None,
            "no-such-bucket/orders.csv: no such object or prefix",
        ),
        ("s3://landing-zone/bad/empty.csv", b"", "empty.csv: the file is empty (0 bytes)"),
        (
            "s3://landing-zone/bad/binary.csv",
            b"a,b\n1,\x00\x01\n",
            "binary.csv: line 2: a NUL byte",
        ),
        (
            "s3://landing-zone/bad/latin.csv",
            "n\nGen\xe8ve\n".encode("latin-1"),
            "latin.csv: line 2: not utf-8 text",
        ),
        ("s3://landing-zone/bad/fake.parquet", b"not parquet", "fake.parquet: not a Parquet file"),
        ("s3:///orders.csv", None, "no bucket: expected s3://bucket/prefix"),
    ],
)
def test_bad_s3_input_is_one_clear_line(s3, project, capsys, location, content, expected):
    if content is not None:
        put(s3, location.split(f"{BUCKET}/", 1)[1], content)
    code = main(["-C", str(project.root), "profile", location])
    err = capsys.readouterr().err
    assert code == 1
    assert expected in err, err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize(
    ("endpoint", "expected"),
    [
        ("http://127.0.0.1:9", "cannot read from S3"),  # nothing listens there
        ("ftp://127.0.0.1:21", "AWS_ENDPOINT_URL 'ftp://127.0.0.1:21' is not an http(s) URL"),
    ],
)
def test_an_unreachable_or_wrong_endpoint_is_one_line(
    s3, tmp_path, monkeypatch, endpoint, expected
):
    monkeypatch.setenv("AWS_ENDPOINT_URL", endpoint)
    with pytest.raises(ProfileError, match=r"^s3://|^AWS_ENDPOINT_URL") as raised:
        resolve(tmp_path, f"s3://{BUCKET}/orders/orders.csv", None, {})
    assert expected in str(raised.value) and "\n" not in str(raised.value)


def test_phasegate_profile_of_an_s3_object_end_to_end(s3, project, capsys, tmp_path, monkeypatch):
    """The CLI through the profiling subprocess (its own Spark) on an object in S3: the spec is
    drafted with the s3:// path, the profile stored, and the temporary copy removed."""
    import tempfile

    from deliverables.profiles import latest_profile
    from tests.test_profile import orders_csv

    put(s3, "small/orders.csv", orders_csv(20, datetime.now(UTC)).encode())
    # its profiling child unmeasured (tests/helpers/unmeasured.py): test_profile.py's CLI test
    # measures that code; this one is about the S3 source
    for variable in COVERAGE_VARIABLES:
        monkeypatch.delenv(variable, raising=False)
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))  # this test's copies, not another's
    code = main(["-C", str(project.root), "profile", f"s3://{BUCKET}/small/orders.csv", "-q"])
    assert code == 0, capsys.readouterr().err
    assert list(scratch.iterdir()) == []
    spec = (project.root / "pipelines/orders.yaml").read_text()
    assert f'  path: "s3://{BUCKET}/small/orders.csv"' in spec and "\n  sample: " not in spec
    stored = latest_profile(project.tracker, "orders")
    assert stored.summary["rows_profiled"] == 20
    assert stored.summary["source"]["files"] == 1


class _Counted:
    """The real S3 filesystem, counting the bytes every opened object hands back: what the
    profiler read from the server (a whole download counts every byte)."""

    def __init__(self, real) -> None:
        self.real, self.read = real, 0

    def __getattr__(self, name):
        return getattr(self.real, name)

    def open_input_file(self, path):
        return _CountedFile(self, self.real.open_input_file(path))

    def open_input_stream(self, path):
        return _CountedFile(self, self.real.open_input_stream(path))


class _CountedFile:
    def __init__(self, owner: _Counted, handle) -> None:
        self.owner, self.handle = owner, handle

    def __getattr__(self, name):
        return getattr(self.handle, name)

    def read(self, size=None):
        data = self.handle.read(size)
        self.owner.read += len(data)
        return data

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.handle.close()


def test_a_sampled_s3_source_reads_only_its_blocks(s3, uploaded, monkeypatch):
    """`--sample` on a 50 MB object: ranged reads of the sampled blocks, not the object; the
    staged lines are lines of the object, and the rows are estimated from them."""
    import pipelines.profiling.remote as remote

    real = remote.filesystem
    counted: list[_Counted] = []

    def filesystem():
        counted.append(_Counted(real()))
        return counted[-1]

    monkeypatch.setattr(remote, "filesystem", filesystem)
    source = resolve(uploaded, f"s3://{BUCKET}/orders/orders.csv", None, {}, sample_rows=2_000)
    try:
        assert source.block_sampled and source.files == (f"s3://{BUCKET}/orders/orders.csv",)
        assert source.bytes == (uploaded / "orders.csv").stat().st_size
        read = counted[0].read
        assert 0 < read < source.bytes // 10, (read, source.bytes)
        original = (uploaded / "orders.csv").read_bytes().splitlines(keepends=True)
        staged = Path(source.local[0]).read_bytes().splitlines(keepends=True)
        assert staged[0] == original[0] and staged[0] not in staged[1:]
        assert set(staged[1:]) <= set(original[1:]) and len(staged) > 2_000
        truth = len(original) - 1
        assert abs(source.rows_estimated - truth) <= truth * 0.1
    finally:
        source.discard()
    assert not Path(source.staging).exists()
