"""Salesforce metadata billing-sync owns: the schema (API names), rendering and deploying it.

``metadata.schema`` is light and import-safe for the engine; rendering (jinja2) and deploying
(simple-salesforce) live in their own modules and are imported where used.
"""

from metadata import schema

__all__ = ["schema"]
