"""Pipelines: specs (YAML), generation into the solution repository. Never imports Textual.

Exports lazily (PEP 562): `import pipelines.errors` stays cheap for the CLI's start-up.
"""

from __future__ import annotations

from typing import Any

_EXPORTS = {
    "PipelineSpec": "pipelines.spec",
    "load_spec": "pipelines.spec",
    "load_specs": "pipelines.spec",
    "SpecError": "pipelines.errors",
    "GenerationError": "pipelines.errors",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        import importlib

        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'pipelines' has no attribute {name!r}")
