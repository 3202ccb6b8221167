"""The source's calls to Stripe: one GET, paced, counted, translated, retried; list pages.

Several listing threads share one ``StripeCalls``: the pacer is thread-safe and the counter
is updated under a lock, so a partitioned listing keeps the rate and counts every call.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Generator
from typing import Any

import stripe

from ..retry import backoff_call
from . import errors
from .convert import slim
from .pacing import Pacer
from .partition import Partitioning, partitioned_pages
from .raw import Loads, RawReader
from .shapes import slim_page
from .strategy import PAGE

__all__ = ["StripeCalls"]


class _Listed:
    """A page already turned into dicts, as ``get`` takes an SDK object (``to_dict``)."""

    def __init__(self, page: dict[str, Any]) -> None:
        self._page = page

    def to_dict(self) -> dict[str, Any]:
        return self._page


Page = list[dict[str, Any]]

# A stoppable listing's pages read as one chain before it widens into concurrent ranges: the
# customer listing's decision to go on is made on the first of them (``customers``).
NARROW = 2


class StripeCalls:
    def __init__(
        self,
        client: stripe.StripeClient,
        raw: RawReader | None,
        sleep: Callable[[float], None],
        pacer: Pacer | None,
    ) -> None:
        self.client, self.raw = client, raw
        self._sleep, self._pacer = sleep, pacer
        self._lock = threading.Lock()
        self.counts: Counter[str] = Counter()

    def reset(self) -> None:
        with self._lock:
            self.counts = Counter()

    def get(
        self,
        label: str,
        path: str,
        params: dict[str, Any],
        sdk: Callable[[], Any],
        loads: Loads | None = None,
    ) -> dict[str, Any]:
        """GET ``path``: as JSON when raw (parsed by ``loads``, if given), else through
        ``sdk()``'s StripeObject."""
        raw = self.raw

        def read() -> dict[str, Any]:
            if raw is not None:
                return raw.get(path, params, loads)
            result: dict[str, Any] = sdk().to_dict()
            return result

        def once() -> dict[str, Any]:
            if self._pacer is not None:
                self._pacer.wait(label)
            with self._lock:
                self.counts[label] += 1
            return errors.call(read)

        return backoff_call(once, sleep=self._sleep)

    def page(self, resource: str, params: dict[str, Any]) -> dict[str, Any]:
        """One page of a list, ``params`` as sent (``limit`` and cursor included).
        Subscriptions come slim (``convert.slim``), whichever way the page is read."""
        service = getattr(self.client.v1, resource)
        path = f"/v1/{resource}"
        subscriptions = resource == "subscriptions"

        def list_page() -> Any:
            page = service.list(params=params)
            if not subscriptions:
                return page
            listed = page.to_dict()
            listed["data"] = [slim(sub) for sub in listed.get("data") or []]
            return _Listed(listed)

        loads = None
        if subscriptions:
            loads = (self.raw.subscription_pages if self.raw else None) or slim_page
        return self.get(f"GET {path}", path, params, list_page, loads)

    def pages(self, resource: str, params: dict[str, Any]) -> Generator[Page, None, None]:
        """The pages of a list, one call each, fetched as the caller asks for the next."""
        cursor: str | None = None
        while True:
            page_params = {**params, "limit": PAGE}
            if cursor:
                page_params["starting_after"] = cursor
            page = self.page(resource, page_params)
            data = page.get("data", [])
            yield data
            if not page.get("has_more") or not data:
                return
            cursor = data[-1]["id"]

    def listing(
        self,
        resource: str,
        params: dict[str, Any],
        how: Partitioning,
        expected: int | None,
        *,
        stoppable: bool = False,
    ) -> Generator[Page, None, None]:
        """The pages of a whole list: one chain (``pages``) at concurrency 1, else ranges of
        ``created`` read concurrently (``partition``), pages in no fixed order.

        ``stoppable``: the reader may stop at any page (the customer listing goes on only
        while it pays). Its first ``NARROW`` pages are then one chain, so a listing that
        stops there costs no more than it did; after them, ranges, with at most
        ``concurrency`` pages fetched ahead of the reader (the most a stop can waste).
        ``close()`` the iterator when done with it: that stops its threads."""
        if how.concurrency <= 1:
            return self.pages(resource, params)
        narrow, ahead = (NARROW, how.concurrency) if stoppable else (1, None)
        return partitioned_pages(lambda p: self.page(resource, p), params, how, expected,
                                 narrow=narrow, ahead=ahead)  # fmt: skip
