"""Salesforce I/O: the cycle's reads and writes, deploying our metadata, the integration
user's access, the deployed schema version, and the one table that translates Salesforce's
errors."""

from .deploy import ComponentResult, DeployResult, deploy
from .gateway import SalesforceGateway, WriteResult
from .version import deployed_version, needs_deploy

__all__ = [
    "ComponentResult",
    "DeployResult",
    "SalesforceGateway",
    "WriteResult",
    "deploy",
    "deployed_version",
    "needs_deploy",
]
