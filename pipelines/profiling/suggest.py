"""Quality rules suggested by a profile, each with its evidence, and the pipeline spec drafted
from them (`pipelines/<name>.yaml`), in the rule names of docs/pipeline-spec.md.

- `not_null` where no null (nor empty text) was seen;
- `unique` on candidate keys (one column, or two together when no single column is a key);
- `between` from the observed range, widened by a margin (10 % of the range, never across 0);
- `in_set` for low-cardinality text (up to 20 values, each seen at least twice on average);
- `regex` from pattern classes every value has (UUIDs, emails, digits with leading zeros);
- `row_count` from the volume (half of it in production; the sample's own count for a sample);
- `freshness` on the freshness candidate when its latest value is recent;
- `max_rejected` when values fail their column's type (the job rejects those rows).

Sensitive columns get rules that carry no values (not_null, unique, regex); never in_set or
between, so none of their values reaches the spec.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from phases.text import control_problem
from pipelines.errors import ProfileError
from pipelines.profiling.compute import PATTERNS, is_numeric

IN_SET_MAX = 20
MARGIN = 0.1
FRESH_DAYS = 30
SAMPLE_FRESHNESS_HOURS = 8760  # a sample file is a snapshot: a year before it counts as stale
DRAFT_TEMPLATE = "profile@1"
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,127}\Z")
DIGITS = r"^[0-9]+$"
_PLAIN = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_YAML_WORDS = {"true", "false", "yes", "no", "on", "off", "null", "y", "n"}


@dataclass(frozen=True)
class Suggestion:
    rule: dict[str, Any]  # the rule as the spec writes it
    evidence: str

    @property
    def id(self) -> str:
        r = self.rule
        if "columns" in r:
            return f"{r['rule']}_{'_'.join(r['columns'])}"
        return f"{r['rule']}_{r['column']}" if "column" in r else r["rule"]


def spec_columns(profile: dict) -> tuple[list[dict], dict[str, Any], list[str]]:
    """The columns the spec declares (type as the job will parse it), the reader options that
    parse them, and notes on what was changed (a second date format kept as text…)."""
    source = profile["source"]
    options: dict[str, Any] = dict(source["options"])
    lowered = {k.lower() for k in options}
    notes: list[str] = []
    if source["format"] == "csv" and "header" not in lowered:
        options["header"] = True
    if profile.get("null_marker") and "nullvalue" not in lowered:
        options["nullValue"] = profile["null_marker"]
    columns = [dict(c) for c in profile["columns"] if c["type"] and c.get("lossless")]
    for kind, key, option in (
        ("date", "date_format", "dateFormat"),
        ("timestamp", "timestamp_format", "timestampFormat"),
    ):
        users = [c for c in columns if c["type"] == kind]
        formats = [c.get(key) for c in users]
        given = next((options[k] for k in options if k.lower() == option.lower()), None)
        chosen = (
            given
            if given is not None
            else (max(set(formats), key=formats.count) if formats else None)
        )
        if chosen is not None and chosen != (None if given is None else given):
            options[option] = chosen
        for c in users:
            if c.get(key) != chosen:
                c["type"] = "string"
                notes.append(
                    f"{c['name']}: {kind} in another format ({c.get(key) or 'ISO'}) than the "
                    f"source's {option} ({chosen or 'ISO'}): kept as text"
                )
    for c in columns:
        if not _IDENTIFIER.match(c["name"]):
            raise ProfileError(
                f"column {c['name']!r} is not a name a spec can hold (letters, digits, _; not "
                "starting with a digit): rename it in the source, then profile again"
            )
    return columns, options, notes


def suggest(profile: dict, now: datetime | None = None) -> list[Suggestion]:
    """The rules for `profile`, in the order the spec lists them."""
    columns, _, _ = spec_columns(profile)
    rows = profile["rows_profiled"]
    volume = profile.get("rows") or profile.get("rows_estimated") or rows
    sampled = profile["basis"] != "all rows"
    basis = f"a sample of {rows:,} rows" if sampled else f"{rows:,} rows"
    keys = profile["keys"]
    out: list[Suggestion] = []
    for c in columns:
        if c["nulls"] == 0 and c["empties"] == 0 and c["values"]:
            out.append(
                Suggestion({"rule": "not_null", "column": c["name"]}, f"no nulls in {basis}")
            )
    for name in keys["single"]:
        out.append(
            Suggestion({"rule": "unique", "column": name}, f"{rows:,} distinct values in {basis}")
        )
    if not keys["single"]:
        for pair in keys["composite"][:1]:
            out.append(
                Suggestion(
                    {"rule": "unique", "columns": list(pair)},
                    f"{rows:,} distinct pairs in {basis}; no single column is a key",
                )
            )
    keyed = set(keys["single"])
    for c in columns:
        if c["sensitive"] or c["name"] in keyed:
            continue
        kind = c["type"]
        if is_numeric(kind) and c.get("min") is not None and c.get("max") is not None:
            lo, hi = _widen(c["min"], c["max"], kind)
            out.append(
                Suggestion(
                    {"rule": "between", "column": c["name"], "min": lo, "max": hi},
                    f"observed {c['min']} to {c['max']} in {basis}; widened by "
                    f"{int(MARGIN * 100)} % of the range",
                )
            )
        values = c.get("categories")
        if (
            kind == "string"
            and values
            and len(values) <= IN_SET_MAX
            and c["values"] >= 2 * len(values)
            and not any(control_problem(v) for v in values)
        ):
            out.append(
                Suggestion(
                    {"rule": "in_set", "column": c["name"], "values": values},
                    f"{len(values)} distinct values in {basis}",
                )
            )
    for c in columns:
        if c["type"] != "string" or not c["values"]:
            continue
        pattern, label = _pattern(c)
        if pattern:
            out.append(
                Suggestion(
                    {"rule": "regex", "column": c["name"], "pattern": pattern},
                    f"every value in {basis} is {label}",
                )
            )
    out.append(
        Suggestion(
            {"rule": "row_count", "min": {"sample": 1, "production": max(1, volume // 2)}},
            f"{volume:,} rows {'estimated' if sampled else 'at profiling'}; production: at "
            "least half of that",
        )
    )
    fresh = profile.get("freshness")
    fresh_col = next((c for c in columns if fresh and c["name"] == fresh["column"]), None)
    when = now or datetime.fromisoformat(profile["profiled_at"])
    if fresh and fresh_col is not None and fresh_col["type"] in ("date", "timestamp"):
        latest = datetime.fromisoformat(fresh["latest"])
        if latest.tzinfo is None:
            latest = latest.replace(tzinfo=when.tzinfo)
        age = (when - latest).total_seconds() / 3600
        if -24 <= age <= FRESH_DAYS * 24:
            hours = max(26, math.ceil(max(age, 0) * 2 + 24))
            out.append(
                Suggestion(
                    {
                        "rule": "freshness",
                        "column": fresh["column"],
                        "max_age_hours": {
                            "sample": SAMPLE_FRESHNESS_HOURS,
                            "production": hours,
                        },
                    },
                    f"latest {fresh['latest']}, {max(age, 0):.1f} h before profiling; a sample "
                    "file is a snapshot (a year)",
                )
            )
    failing = sum(c["failing"] for c in columns if c["type"] != "string")
    if failing:
        out.append(
            Suggestion(
                {"rule": "max_rejected", "max": failing},
                f"{failing:,} value(s) in {basis} fail their column's type: the job rejects those rows",
            )
        )
    return out


def _pattern(c: dict) -> tuple[str | None, str]:
    n = c["values"]
    patterns = c.get("patterns") or {}
    if patterns.get("uuid") == n:
        return PATTERNS["uuid"], "a UUID"
    if patterns.get("email") == n:
        return PATTERNS["email"], "an email address"
    if patterns.get("numeric with leading zeros") and patterns.get("digits only") == n:
        return DIGITS, "digits (some with leading zeros)"
    return None, ""


def _widen(lo, hi, kind: str) -> tuple[Any, Any]:
    span = hi - lo
    pad = span * MARGIN if span else max(abs(hi) * MARGIN, 1)
    low = lo - pad
    if lo >= 0:
        low = max(0, low)
    high = hi + pad
    if kind in ("int", "long"):
        return math.floor(low), math.ceil(high)
    scale = 0
    if kind.startswith("decimal"):
        scale = int(kind.split(",")[1].rstrip(")"))
    digits = max(scale, 2)
    factor = 10**digits
    low_r, high_r = math.floor(low * factor) / factor, math.ceil(high * factor) / factor
    if low_r == int(low_r):
        low_r = int(low_r)
    if high_r == int(high_r):
        high_r = int(high_r)
    return low_r, high_r


# --- the drafted spec ----------------------------------------------------------------------------


def draft_spec(
    profile: dict,
    report_path: str,
    now: datetime | None = None,
    rejected: frozenset[str] = frozenset(),
) -> str:
    """`pipelines/<name>.yaml` text: the source with the options that parsed it, the schema, and
    the suggested rules, each after a comment with its evidence; the rules whose ids are in
    `rejected` (a reviewer turned them down) are named in a comment, not written."""
    name = profile["name"]
    columns, options, notes = spec_columns(profile)
    suggestions = [s for s in suggest(profile, now) if s.id not in rejected]
    turned_down = sorted(rejected & {s.id for s in suggest(profile, now)})
    source = profile["source"]
    rows = profile["rows_profiled"]
    lines = [
        f"# Drafted by `phasegate profile` from {_comment(source['location'])} on "
        f"{profile['profiled_at']}",
        f"# ({rows:,} rows, {profile['basis']}). Every rule below says what it was drawn from:",
        "# review them before the spec is trusted. The profile: " + _comment(report_path),
        f"name: {name}",
        f"description: {_q('Drafted from ' + source['location'] + ' by the profiler')}",
        "source:",
        f"  path: {_q(source['location'])}",
        f"  format: {source['format']}",
    ]
    if options:
        lines.append("  options: {" + ", ".join(f"{k}: {_q(v)}" for k, v in options.items()) + "}")
    if source["files"] == 1 and "://" not in source["location"] and "*" not in source["location"]:
        lines.append(f"  sample: {_q(source['location'])}")
    lines.append("schema:")
    for c in columns:
        facts = [f"{c['nulls']:,} null", f"{c['distinct']:,} distinct"]
        if c.get("sensitive"):
            facts.append(f"SENSITIVE ({c['sensitive']}): values not copied")
        if c["type"] in ("date", "timestamp") and (
            c.get("date_format") or c.get("timestamp_format")
        ):
            facts.append(f"format {c.get('date_format') or c.get('timestamp_format')}")
        lines.append(f"  - {{name: {c['name']}, type: {_q(c['type'])}}}  # " + "; ".join(facts))
    lines += ["target:", f"  table: raw.{name}"]
    for note in notes:
        lines.append(f"# note: {_comment(note)}")
    if turned_down:
        lines.append(f"# rejected at review: {', '.join(turned_down)}")
    lines.append("quality:")
    for s in suggestions:
        lines.append(f"  # {_comment(s.evidence)}")
        lines.append("  - " + _flow(s.rule))
    return "\n".join(lines) + "\n"


def _flow(value: Any) -> str:
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_flow(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_flow(v) for v in value) + "]"
    return _q(value)


def _q(value: Any) -> str:
    """A YAML scalar: numbers and booleans plain, text as a JSON (double-quoted YAML) string."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if _PLAIN.match(str(value)) and str(value).lower() not in _YAML_WORDS:
        return str(value)
    return json.dumps(str(value), ensure_ascii=False)


def _comment(text: str) -> str:
    return " ".join(str(text).split())
