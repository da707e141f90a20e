"""Data profiling & discovery (process 1.3): a source profiled on Spark, the Data Profiling Report
(D1.3), a drafted pipeline spec with suggested quality rules.

- `source`: what to read (the spec's own location and reader-option checks), the files, their
  bytes and path partitions, and the bad input found before Spark starts (empty, binary, not UTF-8).
- `compute`: the statistics, in a few Spark passes (runs in the profiling subprocess).
- `child` / `run`: the subprocess with one warm Spark session, driven from the parent; the CLI
  never imports Spark.
- `suggest`: quality rules from a profile, and the spec drafted from them.
- `report`: the D1.3 document.

Light at import: nothing here imports Spark, GX, textual, the TUI or the CLI at module level.
"""

from __future__ import annotations

from deliverables.profiles import REPORT_DELIVERABLE as REPORT_DELIVERABLE  # D1.3, one name

PROFILE_VERSION = 1
PROFILE_DIR = ".phasegate/profiles"  # one JSON per profiled source: <name>.json
# The checklist items of 1.3 a stored profile satisfies, and why.
ITEMS = {
    "1.3.1": "profiled for quality issues (nulls, duplicates, malformed values, keys)",
    "1.3.2": "types, distributions and patterns recorded per column",
}
