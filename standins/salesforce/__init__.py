"""A local stand-in for a Salesforce org (REST, OAuth, SOQL, Metadata deploy) for tests and the
demo. Only tests, the demo and the ``billing-sync emulator`` command import it; the engine never
does."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .org import Org

if TYPE_CHECKING:
    from .server import SalesforceStandIn

__all__ = ["Org", "SalesforceStandIn"]


def __getattr__(name: str) -> object:
    # The HTTP server (ssl, trustme, jwt) loads only when asked for, so the Metadata side and
    # unit tests of the org import nothing they do not use.
    if name == "SalesforceStandIn":
        from .server import SalesforceStandIn

        return SalesforceStandIn
    raise AttributeError(name)
