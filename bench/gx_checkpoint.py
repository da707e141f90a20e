"""What running the generated GX checkpoint costs, with the baseline in the same invocation.

    .venv/bin/python bench/gx_checkpoint.py [--rows 100000] [--rounds 5] [--history 100]

1. checkpoint: the generated quality runner's `run_checkpoint` (file data context, the
   checkpoint's validation definition, the result stored, the Data Docs page and index rebuilt)
   on a pandas batch of `--rows` rows of bench/generate.py's pipeline, interleaved with the
   validation phasegate generated before (issue 13): the same suite validated in an ephemeral
   context with `batch.validate`, nothing stored or built. Both get the same batch and
   parameters. The ratio is the price of a real context, stored results and Data Docs.
2. history: the same checkpoint on 1,000 rows once `--history` results are stored (a daily
   pipeline after a few months): the Data Docs action rebuilds the index over every stored
   result, so this grows with the history. Interleaved with runs of a context holding a few
   results (its site built once, so both sides only add a page and rebuild the index).

Imports GX once (about 3 s, not measured); the runs are in this process.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).parent))

from _interleave import interleave  # noqa: E402
from generate import SPEC  # noqa: E402

from pipelines.codegen import render_pipelines  # noqa: E402
from pipelines.spec import load_specs  # noqa: E402

NOW = datetime(2026, 11, 27, 12, tzinfo=UTC)


def solution(folder: Path) -> Path:
    """One pipeline (bench/generate.py's p000), its generated files written under `folder`."""
    (folder / "pipelines").mkdir(parents=True)
    (folder / "pipelines/p000.yaml").write_text(
        SPEC.format(name="p000", n=0, depends="", sample="")
    )
    for rendered in render_pipelines(load_specs(folder), NOW.date()):
        path = folder / rendered.path
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(rendered.content)
    return folder


def runner(folder: Path):
    """The generated quality runner, imported from its file."""
    path = folder / "src/validation/p000_quality.py"
    spec = importlib.util.spec_from_file_location(f"p000_quality_{id(folder)}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def batch(rows: int):
    """`rows` rows that pass every rule (the output columns of p000)."""
    import pandas as pd

    at = NOW.replace(tzinfo=None) - timedelta(hours=1)
    return pd.DataFrame(
        {
            "id": [f"id{n}" for n in range(rows)],
            "happened_at": [at] * rows,
            "amount": [float(n % 100) + 0.5 for n in range(rows)],
            "quantity": [n % 1000 + 1 for n in range(rows)],
            "status": ["new" if n % 2 else "done" for n in range(rows)],
            "unit_price": [0.5] * rows,
            "_ingested_at": [at] * rows,
            "_source_file": ["bench.csv"] * rows,
            "_correlation_id": ["bench"] * rows,
        }
    )


def ephemeral(quality, df) -> float:
    """The validation generated before: the suite in an ephemeral context, `batch.validate`."""
    import great_expectations as gx

    start = time.perf_counter()
    suite_json = json.loads(quality.SUITE.read_text())
    suite_json.pop("id")
    for expectation in suite_json["expectations"]:
        expectation.pop("id")
    context = gx.get_context(mode="ephemeral")
    asset = context.data_sources.add_pandas("pandas").add_dataframe_asset("p000")
    one = asset.add_batch_definition_whole_dataframe("all").get_batch(
        batch_parameters={"dataframe": df}
    )
    suite = context.suites.add(gx.ExpectationSuite(**suite_json))
    result = one.validate(suite, expectation_parameters=quality.suite_parameters("sample", NOW))
    assert result.success
    return time.perf_counter() - start


def checkpoint(quality, df) -> tuple[float, dict]:
    start = time.perf_counter()
    report = quality.run_checkpoint(df, env="sample", now=NOW)
    assert report["success"], report
    return time.perf_counter() - start, report


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--history", type=int, default=100)
    parser.add_argument("--only", choices=("checkpoint", "history"))
    args = parser.parse_args()
    import great_expectations  # noqa: F401  (imported once, before anything is timed)

    df = batch(args.rows)
    with tempfile.TemporaryDirectory() as tmp:
        fresh = solution(Path(tmp) / "fresh")
        quality = runner(fresh)
        if args.only != "history":
            pair = interleave(
                lambda: ephemeral(quality, df), lambda: checkpoint(quality, df), args.rounds
            )
            print(f"checkpoint on {args.rows:,} rows ({args.rounds} rounds)")
            print(f"  ephemeral batch.validate (before): {pair.base_median:.2f} s median")
            print(
                f"  file-context checkpoint + result stored + Data Docs: {pair.ours_median:.2f} s "
                f"median; ratio {pair.ratio:.2f}x (rounds {pair.spread()})"
            )
        if args.only == "checkpoint":
            return

        small = batch(1_000)
        aged, young = solution(Path(tmp) / "aged"), solution(Path(tmp) / "young")
        old, new = runner(aged), runner(young)
        new.run_checkpoint(small, env="sample", now=NOW)  # the site's static files, once
        for _ in range(args.history):
            old.run_checkpoint(small, env="sample", now=NOW)
        stored = len(list((aged / "great_expectations/uncommitted/validations").rglob("*.json")))

        def empty_history() -> float:
            return checkpoint(new, small)[0]

        def with_history() -> tuple[float, dict]:
            return checkpoint(old, small)

        growth = interleave(empty_history, with_history, args.rounds)
        print(f"checkpoint on 1,000 rows with {stored}+ stored results ({args.rounds} rounds)")
        print(f"  a few stored results: {growth.base_median:.2f} s median")
        print(
            f"  {stored}+ stored results: {growth.ours_median:.2f} s median; ratio "
            f"{growth.ratio:.2f}x (rounds {growth.spread()})"
        )


if __name__ == "__main__":
    main()
