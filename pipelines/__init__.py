"""Pipelines: specs (YAML), and later their generation and validation. Never imports Textual."""

from pipelines.spec import PipelineSpec, SpecError, load_spec, load_specs

__all__ = ["PipelineSpec", "SpecError", "load_spec", "load_specs"]
