"""The Jinja2 environment of everything pipelines/ generates (templates/ beside this file).

Filters turn spec values into escaped literals, each for its target language and each from
phases.text (the one place escaping is decided): `pystr` (a double-quoted Python string
whose value is the spec's text, emoji included), `sqlstr` (a Spark SQL string, `\\'` for a quote),
`docstring` (text inside a docstring), `md` (markdown text), `code` (a markdown code span) and
`mermaid` (a Mermaid label).
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from phases.text import md_code, md_escape, mermaid_label, py_string, spark_sql_string

TEMPLATES = Path(__file__).with_name("templates")


@cache
def environment() -> Any:
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
        autoescape=False,
    )
    env.filters["pystr"] = py_string
    env.filters["sqlstr"] = spark_sql_string
    env.filters["mermaid"] = mermaid_label
    env.filters["docstring"] = docstring
    env.filters["md"] = md_escape
    env.filters["code"] = md_code
    return env


def docstring(text: object) -> str:
    """Text inside a generated docstring: it can neither end the string nor escape out of it,
    and non-printable characters show as escapes."""
    return py_string(" ".join(str(text).split()))[1:-1]
