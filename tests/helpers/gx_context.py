"""`python -m tests.helpers.gx_context CONTEXT_DIR NAME...`: opens a GX Core 1.x file data
context and resolves each named checkpoint to what it runs. Prints JSON, with the files that
opening the context wrote or changed."""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import great_expectations as gx

root = Path(sys.argv[1])


def files() -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in root.rglob("*")
        if p.is_file()
    }


before = files()
context = gx.get_context(mode="file", context_root_dir=str(root))
checkpoints = {}
for name in sys.argv[2:]:
    checkpoint = context.checkpoints.get(name)
    validation = checkpoint.validation_definitions[0]
    checkpoints[name] = {
        "validation_definition": validation.name,
        "suite": validation.suite.name,
        "expectations": len(validation.suite.expectations),
        "data_source": validation.data_source.name,
        "asset": validation.asset.name,
        "batch_definition": validation.batch_definition.name,
        "actions": [action.type for action in checkpoint.actions],
    }
after = files()
print(
    json.dumps(
        {
            "context": type(context).__name__,
            "checkpoints": checkpoints,
            "analytics_enabled": context.variables.analytics_enabled,
            "progress_bars": dict(context.variables.progress_bars or {}).get("globally"),
            "written": sorted(p for p in after if before.get(p) != after[p]),
        }
    )
)
