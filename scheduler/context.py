"""What a CLI command receives: settings and clients, built lazily and once."""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Mapping, Sequence
from functools import cached_property
from typing import TYPE_CHECKING, Any, TextIO

from sync.redact import Redactor

from .settings import Settings, load_settings

if TYPE_CHECKING:  # the clients' libraries are heavy: load them only for commands that call
    # By name: inside Context, ``stripe`` is the method below, not the module.
    from stripe import StripeClient

    from .clients import SalesforceConnection

__all__ = ["Context", "format_table", "printable", "show_value"]


# Control characters (terminal escapes) from data we print — product or customer names come
# from Stripe — could rewrite the operator's screen: they are dropped; newlines and tabs stay.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def printable(text: str) -> str:
    return _CONTROL.sub("", text)


def show_value(value: Any) -> str:
    """A Salesforce value for a person: an em dash for empty."""
    return "—" if value is None or value == "" else str(value)


def format_table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    cells = [[str(h) for h in headers]] + [["" if c is None else str(c) for c in r] for r in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = [
        "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in cells
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


class Context:
    def __init__(
        self,
        environ: Mapping[str, str] | None = None,
        stdout: TextIO | None = None,
        settings_loader: Callable[[Mapping[str, str] | None], Settings] = load_settings,
        redactor: Redactor | None = None,
    ):
        self.environ = environ
        self.stdout = stdout or sys.stdout
        self._loader = settings_loader
        # Shared with the log handler: a secret learnt from the settings is masked everywhere.
        self.redactor = redactor or Redactor()

    @cached_property
    def settings(self) -> Settings:
        settings = self._loader(self.environ)
        self.redactor.add(settings.secrets())
        return settings

    def salesforce(self) -> SalesforceConnection:
        """The SalesforceConnection (``.sf`` is the simple-salesforce client), built once."""
        return self._salesforce

    def stripe(self) -> StripeClient:
        """The StripeClient, built once."""
        return self._stripe

    def billing(self) -> Any:
        """The billing provider's client (Stripe's is ``stripe()``), built once."""
        return self._billing

    @cached_property
    def _billing(self) -> Any:
        from .clients import build_billing

        if self.settings.billing_provider == "stripe":
            return self._stripe
        return build_billing(self.settings)

    @cached_property
    def _salesforce(self) -> SalesforceConnection:
        from .clients import build_salesforce

        return build_salesforce(self.settings)

    @cached_property
    def _stripe(self) -> StripeClient:
        from .clients import build_stripe

        return build_stripe(self.settings)

    def out(self, text: str = "") -> None:
        print(printable(self.redactor.text(text)), file=self.stdout, flush=True)

    @staticmethod
    def table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
        return format_table(headers, rows)
