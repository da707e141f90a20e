"""What reading a source from S3 adds before Spark starts (issue 15): `resolve()` of a ~50 MB CSV
through moto's S3 server on 127.0.0.1 (list, stream the object into a temporary folder, the text
checks of a local file), interleaved (bench/_interleave.py) with `resolve()` of the same file on
disk (the checks alone). The Spark passes that follow read the same bytes either way (the copy),
so this is the whole difference. No goal set: the figures are printed.

    python bench/profile_s3.py [--megabytes 50] [--rounds 5]
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._interleave import interleave


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--megabytes", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()

    from moto.server import ThreadedMotoServer
    from pyarrow import fs

    from pipelines.profiling.source import resolve
    from tests.test_profile_s3 import big_csv

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    os.environ.update(
        AWS_ENDPOINT_URL=f"http://{host}:{port}",
        AWS_ACCESS_KEY_ID="bench",
        AWS_SECRET_ACCESS_KEY="bench",
        AWS_REGION="us-east-1",
    )
    root = Path(tempfile.mkdtemp(prefix="phasegate-bench-s3-"))
    big_csv(root / "orders.csv", args.megabytes << 20)
    client = fs.S3FileSystem(
        access_key="bench",
        secret_key="bench",
        region="us-east-1",
        endpoint_override=f"{host}:{port}",
        scheme="http",
        allow_bucket_creation=True,
    )
    client.create_dir("bench-landing")
    with (
        (root / "orders.csv").open("rb") as data,
        client.open_output_stream("bench-landing/orders.csv") as out,
    ):
        while chunk := data.read(8 << 20):
            out.write(chunk)

    def on_disk() -> float:
        started = time.perf_counter()
        resolve(root, "orders.csv", None, {})
        return time.perf_counter() - started

    def through_s3() -> tuple[float, int]:
        started = time.perf_counter()
        source = resolve(root, "s3://bench-landing/orders.csv", None, {})
        seconds = time.perf_counter() - started
        source.discard()
        return seconds, source.bytes

    pair = interleave(on_disk, through_s3, args.rounds)
    size = pair.extra[0]
    load = os.getloadavg()[0]
    print(f"profile_s3: resolve() of a {size / 1e6:.1f} MB CSV, load {load:.1f}")
    print(f"  on disk (checks): {pair.base_median:.2f} s median")
    print(
        f"  through S3 (list + download + checks): {pair.ours_median:.2f} s median "
        f"({size / 1e6 / pair.ours_median:.0f} MB/s)"
    )
    print(f"  ratio {pair.ratio:.2f}x (rounds {pair.spread()})")
    server.stop()
    shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
