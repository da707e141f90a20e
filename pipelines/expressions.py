"""Spark SQL expressions of a spec (`derive`, `filter`), checked on sqlglot's parse, not by regex.

The generated job hands the text to `F.expr`, so whatever Spark can call, a spec could call:
`reflect('java.lang.System', …)` runs Java. A regex cannot follow Spark's lexer (backticks,
comments between a name and its parenthesis, qualified names, case), so the text is tokenized and
parsed with sqlglot's Spark dialect and accepted only when:

- it is one expression (no `;`, no second statement);
- every function called is in `FUNCTIONS`, the built-ins data engineers use (string, date/time,
  math, conditional, cast, hashing, regexp, JSON), called by its bare name;
- every column it names exists at that point of the job;
- it has no subquery, lambda, window, `*`, or qualified name.

`expression_problem` returns the first problem as one line (`function reflect is not allowed`),
which pipelines.spec reports as `file:line: field: problem`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

# Spark built-ins a spec may call (lower case). Not here on purpose: reflect, java_method,
# try_reflect (they call Java), higher-order functions (they take lambdas), aggregates and window
# functions (they mean nothing row by row), current_user and friends, UDFs of any name.
# `assert_true` and `raise_error` are in: they only fail the job, a data contract's way to stop.
FUNCTIONS = frozenset(
    [
        "ascii",
        "base64",
        "bit_length",
        "btrim",
        "char",
        "char_length",
        "character_length",
        "chr",
        "concat",
        "concat_ws",
        "contains",
        "decode",
        "elt",
        "encode",
        "endswith",
        "find_in_set",
        "format_number",
        "format_string",
        "initcap",
        "instr",
        "lcase",
        "left",
        "len",
        "length",
        "levenshtein",
        "locate",
        "lower",
        "lpad",
        "ltrim",
        "luhn_check",
        "mask",
        "octet_length",
        "overlay",
        "position",
        "printf",
        "repeat",
        "replace",
        "reverse",
        "right",
        "rpad",
        "rtrim",
        "soundex",
        "space",
        "split",
        "split_part",
        "startswith",
        "substr",
        "substring",
        "substring_index",
        "to_binary",
        "to_char",
        "to_number",
        "to_varchar",
        "translate",
        "trim",
        "try_to_number",
        "ucase",
        "unbase64",
        "upper",
        "url_decode",
        "url_encode",
        "try_url_decode",
        "collate",
        "regexp",
        "regexp_count",
        "regexp_extract",
        "regexp_extract_all",
        "regexp_instr",
        "regexp_like",
        "regexp_replace",
        "regexp_substr",
        "rlike",
        "like",
        "ilike",
        "crc32",
        "md5",
        "sha",
        "sha1",
        "sha2",
        "hash",
        "xxhash64",
        "add_months",
        "convert_timezone",
        "curdate",
        "current_date",
        "current_timestamp",
        "current_timezone",
        "date",
        "date_add",
        "date_diff",
        "date_format",
        "date_from_unix_date",
        "date_part",
        "date_sub",
        "date_trunc",
        "dateadd",
        "datediff",
        "datepart",
        "day",
        "dayofmonth",
        "dayofweek",
        "dayofyear",
        "extract",
        "from_unixtime",
        "from_utc_timestamp",
        "hour",
        "last_day",
        "localtimestamp",
        "make_date",
        "make_dt_interval",
        "make_interval",
        "make_timestamp",
        "make_timestamp_ltz",
        "make_timestamp_ntz",
        "make_ym_interval",
        "minute",
        "month",
        "months_between",
        "next_day",
        "now",
        "quarter",
        "second",
        "timestamp",
        "timestamp_micros",
        "timestamp_millis",
        "timestamp_seconds",
        "timestampadd",
        "timestampdiff",
        "to_date",
        "to_timestamp",
        "to_timestamp_ltz",
        "to_timestamp_ntz",
        "to_unix_timestamp",
        "to_utc_timestamp",
        "trunc",
        "try_to_timestamp",
        "unix_date",
        "unix_micros",
        "unix_millis",
        "unix_seconds",
        "unix_timestamp",
        "weekday",
        "weekofyear",
        "year",
        "abs",
        "acos",
        "acosh",
        "asin",
        "asinh",
        "atan",
        "atan2",
        "atanh",
        "bin",
        "bround",
        "cbrt",
        "ceil",
        "ceiling",
        "conv",
        "cos",
        "cosh",
        "cot",
        "csc",
        "degrees",
        "e",
        "exp",
        "expm1",
        "factorial",
        "floor",
        "greatest",
        "hex",
        "hypot",
        "least",
        "ln",
        "log",
        "log10",
        "log1p",
        "log2",
        "mod",
        "negative",
        "pi",
        "pmod",
        "positive",
        "pow",
        "power",
        "radians",
        "rand",
        "randn",
        "random",
        "rint",
        "round",
        "sec",
        "sign",
        "signum",
        "sin",
        "sinh",
        "sqrt",
        "tan",
        "tanh",
        "try_add",
        "try_divide",
        "try_multiply",
        "try_subtract",
        "try_mod",
        "unhex",
        "width_bucket",
        "div",
        "coalesce",
        "if",
        "iff",
        "ifnull",
        "isnan",
        "isnotnull",
        "isnull",
        "nanvl",
        "nullif",
        "nullifzero",
        "nvl",
        "nvl2",
        "equal_null",
        "zeroifnull",
        "cast",
        "try_cast",
        "boolean",
        "tinyint",
        "smallint",
        "int",
        "integer",
        "bigint",
        "float",
        "double",
        "decimal",
        "dec",
        "numeric",
        "string",
        "varchar",
        "binary",
        "array",
        "array_contains",
        "array_join",
        "element_at",
        "size",
        "get_json_object",
        "from_json",
        "to_json",
        "json_array_length",
        "uuid",
        "assert_true",
        "raise_error",
    ]
)
# Words that stand before a parenthesis without being a call: operators and clause keywords.
_KEYWORDS = frozenset(
    [
        "and",
        "or",
        "not",
        "in",
        "is",
        "when",
        "then",
        "else",
        "case",
        "end",
        "between",
        "like",
        "rlike",
        "ilike",
        "regexp",
        "as",
        "from",
        "for",
        "escape",
        "distinct",
        "interval",
    ]
)
_WORD = re.compile(r"\w+\Z")


# Spark substitutes `${env:X}`, `${system:X}`, `${spark:X}` and `${X}` in the text of every SQL
# it parses (F.expr included), even inside a string literal, before any parser sees it: an
# environment variable or a setting would reach the table. The generated jobs also turn the
# substitution off (spark.sql.variable.substitute=false); this refuses it at the source.
_SUBSTITUTION = "${"
# Deeper than any expression a person writes; sqlglot recurses once per level.
MAX_DEPTH = 200


def expression_problem(text: str, columns: Iterable[str]) -> str | None:
    """Why `text` is not an allowed Spark SQL expression over `columns`, or None."""
    if _SUBSTITUTION in text:
        return (
            "'${' is not allowed (Spark would put an environment variable, a system property or "
            "a setting there, even inside a string)"
        )
    depth = deepest = 0
    for char in text:  # nesting is refused before the parser recurses into it
        depth += char in "([{"
        depth -= char in ")]}"
        deepest = max(deepest, depth)
    if deepest > MAX_DEPTH:
        return f"nested more than {MAX_DEPTH} levels deep"
    try:
        return _problem(text, columns)
    except RecursionError:
        return f"nested too deeply to check (at most {MAX_DEPTH} levels)"


def _problem(text: str, columns: Iterable[str]) -> str | None:
    import sqlglot
    from sqlglot import exp
    from sqlglot.errors import ParseError, TokenError
    from sqlglot.tokens import TokenType

    try:
        tokens = sqlglot.tokenize(text, read="spark")
    except (TokenError, ValueError) as exc:
        return f"not a Spark SQL expression ({_first_line(exc)})"
    for n, token in enumerate(tokens):
        if token.token_type == TokenType.SEMICOLON:
            return "one expression, without ';'"
        following = tokens[n + 1] if n + 1 < len(tokens) else None
        if following is None or following.token_type != TokenType.L_PAREN:
            continue
        name = token.text
        quoted = token.token_type in (TokenType.IDENTIFIER, TokenType.STRING)
        if not quoted and not _WORD.match(name):
            continue  # an operator or punctuation before "("
        qualified = n > 0 and tokens[n - 1].token_type == TokenType.DOT
        if qualified:
            parts, k = [name], n - 1
            while k > 0 and tokens[k].token_type == TokenType.DOT:
                parts.insert(0, tokens[k - 1].text)
                k -= 2
            return f"function {'.'.join(parts)} is not allowed (call built-ins by their bare name)"
        if not quoted and name.lower() in _KEYWORDS:
            continue
        if name.lower() not in FUNCTIONS:
            return f"function {name} is not allowed"
    try:
        trees = sqlglot.parse(text, read="spark")
    except (ParseError, TokenError, ValueError) as exc:
        return f"not a Spark SQL expression ({_first_line(exc)})"
    trees = [t for t in trees if t is not None]
    if len(trees) != 1:
        return "one expression, without ';'" if trees else "empty expression"
    known = {c.lower() for c in columns}
    refused = (
        (exp.Select, "a subquery"),
        (exp.Subquery, "a subquery"),
        (exp.Query, "a subquery"),
        (exp.Lambda, "a lambda"),
        (exp.Window, "a window function"),
        (exp.Star, "'*'"),
        (exp.Dot, "a qualified name"),
        (exp.Placeholder, "a parameter"),
        (exp.CurrentUser, "current_user"),  # who runs the job is not a column's value
        (exp.SessionUser, "session_user"),
        (exp.Parameter, "a parameter"),
        (exp.Command, "a statement"),
        (exp.DDL, "a statement"),
        (exp.DML, "a statement"),
    )
    for node in trees[0].walk():
        for kind, label in refused:
            if isinstance(node, kind):
                return f"{label} is not allowed in an expression"
        if isinstance(node, exp.Column):
            if node.table:
                return f"column {node.sql(dialect='spark')} is not allowed (a qualified name)"
            if node.name.lower() not in known:
                return f"no column {node.name!r} at this point (columns: {', '.join(columns)})"
    return None


def _first_line(exc: Exception) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:200] if text else type(exc).__name__
