"""The floor of the static tier: a Python that imports what the tier cannot do without."""

from airflow.dag_processing.dagbag import DagBag  # noqa: F401
from great_expectations.expectations.expectation_configuration import (  # noqa: F401
    ExpectationConfiguration,
)
