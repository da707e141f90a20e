"""`python -m tests.helpers.gx_suite SUITE.json`: loads a suite in GX Core 1.x and checks each
expectation on its own (GX drops unknown types silently on load). Prints JSON."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from great_expectations.core.expectation_suite import ExpectationSuite
from great_expectations.expectations.expectation_configuration import ExpectationConfiguration

data = json.loads(Path(sys.argv[1]).read_text())
built = [ExpectationConfiguration(**e).to_domain_obj() for e in data["expectations"]]
suite = ExpectationSuite(**data)
print(
    json.dumps(
        {
            "declared": len(data["expectations"]),
            "loaded": len(suite.expectations),
            "types": [type(e).__name__ for e in built],
            "severities": [e.severity.value for e in built],
        }
    )
)
