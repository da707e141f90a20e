"""How the generated DAGs run the Spark jobs: the team's choice in agent-prompts/context.yaml.

    tech_stack:
      processing:
        submit:
          mode: spark_submit      # in_process (the default) | spark_submit | spark_connect
          conn_id: spark_prod     # the Airflow connection (default: the provider's)

- `in_process` (local development, the default): the ingest task imports the job and runs it in
  the Airflow worker, on a local Spark session.
- `spark_submit`: the ingest task is the Apache Spark provider's `SparkSubmitOperator`; the
  Airflow connection `conn_id` names the master (spark://host:7077, yarn, k8s://...) and deploy
  mode. The job writes its batch to an audit branch; the next task finds it in the table.
- `spark_connect`: the ingest task runs the job with `--remote`, the URL of the Airflow
  connection `conn_id` (type spark_connect, sc://host:15002): the Airflow worker is a thin client
  and Spark runs on the Spark Connect server.

pipelines.codegen renders the DAGs from it; the static tier checks the DAGs against it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from phases.yamldoc import YamlDoc, is_null
from pipelines.errors import SpecError

CONTEXT = "agent-prompts/context.yaml"
FIELD = "tech_stack.processing.submit"
MODES = ("in_process", "spark_submit", "spark_connect")
DEFAULT_MODE = "in_process"
# the Apache Spark provider's default connections (SparkSubmitHook, SparkConnectHook)
DEFAULT_CONN_IDS = {"spark_submit": "spark_default", "spark_connect": "spark_connect_default"}
_CONN_ID = re.compile(r"[A-Za-z0-9_.-]{1,250}\Z")


@dataclass(frozen=True)
class Submission:
    mode: str = DEFAULT_MODE
    conn_id: str | None = None  # None in process

    @property
    def in_process(self) -> bool:
        return self.mode == DEFAULT_MODE


def submission(root: Path) -> Submission:
    """The solution's choice (context.yaml), or the in-process default when it makes none.
    A wrong value is a SpecError naming the file, the line and the field."""
    path = Path(root) / CONTEXT
    if not path.is_file():
        return Submission()
    doc = YamlDoc.read(path, SpecError)
    node = _child(doc, doc.root, "tech_stack", "")
    node = _child(doc, node, "processing", "tech_stack")
    node = _child(doc, node, "submit", "tech_stack.processing")
    if is_null(node):
        return Submission()
    if isinstance(node, yaml.ScalarNode):  # `submit: spark_submit`
        fields = {"mode": node}
    else:
        fields = doc.mapping(node, FIELD, (), ("mode", "conn_id"))
    mode = doc.text(fields["mode"], f"{FIELD}.mode") if "mode" in fields else DEFAULT_MODE
    if mode not in MODES:
        raise doc.fail(
            fields["mode"],
            f"{FIELD}.mode",
            f"{mode!r} is not one of: {', '.join(MODES)}",
        )
    if mode == DEFAULT_MODE:
        if "conn_id" in fields:
            raise doc.fail(
                fields["conn_id"],
                f"{FIELD}.conn_id",
                "the in_process mode uses no connection (give mode: spark_submit or spark_connect)",
            )
        return Submission()
    conn_id = DEFAULT_CONN_IDS[mode]
    if "conn_id" in fields:
        conn_id = doc.text(fields["conn_id"], f"{FIELD}.conn_id")
        if not _CONN_ID.match(conn_id):
            raise doc.fail(
                fields["conn_id"],
                f"{FIELD}.conn_id",
                f"{conn_id!r} is not an Airflow connection id (letters, digits, _ . -)",
            )
    return Submission(mode, conn_id)


def _child(doc: YamlDoc, node, key: str, where: str):
    """`node[key]` of a mapping (None when absent or when `node` is null)."""
    if is_null(node):
        return None
    if not isinstance(node, yaml.MappingNode):
        raise doc.fail(node, where, "expected a mapping of keys to values")
    for key_node, value in node.value:
        if isinstance(key_node, yaml.ScalarNode) and key_node.value == key:
            return value
    return None
