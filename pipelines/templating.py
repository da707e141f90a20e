"""The Jinja2 environment of everything pipelines/ generates (templates/ beside this file).

Filters turn spec values into escaped literals: `pystr` (a double-quoted Python string, as ruff
formats it), `sqlstr` (a SQL string), `docstring` (text inside a docstring), `md` and `mermaid`.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

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
    env.filters["pystr"] = json.dumps  # JSON escapes are valid Python escapes
    env.filters["sqlstr"] = lambda text: (
        "'" + str(text).replace("\\", "\\\\").replace("'", "''") + "'"
    )
    env.filters["mermaid"] = lambda text: str(text).replace('"', "#quot;")
    # text inside a generated docstring: it can neither end the string nor escape out of it
    env.filters["docstring"] = lambda text: str(text).replace("\\", "\\\\").replace('"', '\\"')
    env.filters["md"] = lambda text: str(text).replace("|", "\\|").replace("\n", " ")
    return env
