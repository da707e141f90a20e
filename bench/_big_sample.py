"""`_big_sample.py FILE ROWS`: a CSV sample in bench/validate.py's spec that passes every rule."""

import csv
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

path, rows = Path(sys.argv[1]), int(sys.argv[2])
path.parent.mkdir(parents=True, exist_ok=True)
now = datetime.now(UTC).replace(tzinfo=None)
moments = [(now - timedelta(minutes=m)).strftime("%Y-%m-%dT%H:%M:%S") for m in range(600)]
with path.open("w", newline="") as handle:
    out = csv.writer(handle)
    out.writerow(["id", "happened_at", "amount", "quantity", "status"])
    for n in range(rows):
        out.writerow(
            [f"id{n}", moments[n % 600], f"{n % 997}.25", n % 1000 + 1, "new" if n % 2 else "done"]
        )
