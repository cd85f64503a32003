"""The local cloud: the control plane's template deployed into an in-process AWS (moto).

See `LocalCloud`; `python -m mlops_local --help` for the command line.
"""

from mlops_local.cloud import LocalCloud
from mlops_local.errors import DeploymentError, LocalCloudError
from mlops_local.runtime import Invocation, InvocationError
from mlops_local.trace import Delivery, FunctionRun, Trace

__all__ = [
    "Delivery",
    "DeploymentError",
    "FunctionRun",
    "Invocation",
    "InvocationError",
    "LocalCloud",
    "LocalCloudError",
    "Trace",
]
