"""Salesforce metadata billing-sync owns: the schema (API names) and its rendering into a
deploy package or DX source. Pure: it imports nothing of ours and calls no service (deploying
is Salesforce I/O and lives in ``sync.salesforce_io``).
"""

from metadata import schema

__all__ = ["schema"]
