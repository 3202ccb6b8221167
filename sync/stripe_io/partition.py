"""One Stripe list read by several threads at once, partitioned by ``created``.

A cursor chain (``starting_after``) cannot be split, but a list filtered by ``created`` can be
paged on its own, so disjoint ``created`` ranges are paged concurrently:

- The first page is read unfiltered (newest first), as the sequential listing reads it: a list
  of one page costs its one call and nothing more. Its last object (``created`` c0) is where
  the rest begins.
- What is left, every object at or below c0 after that cursor, is split into up to
  ``concurrency`` ranges of whole seconds. The newest range goes on from the first page's
  cursor (so the objects of second c0 after it are not read twice); the oldest has no lower
  bound at all, so nothing older than the estimate, or than Stripe itself, can be missed.
  The split points come from the first page's density (objects per second) and the expected
  total, when the caller knows one; without it the span back to ``FLOOR`` is split evenly.
- Work stealing: a thread whose range is done takes the older half of the busy range expected
  to hold the most objects still unread. The busy range's remaining part is [lo, top], top
  being the ``created`` of its last object read; the thief takes [lo, mid - 1], the busy one
  narrows to ``created[gte]=mid`` and goes on from its cursor. mid <= top, so the busy one has
  read nothing below mid (Stripe lists newest first): no object is lost or read twice. A page
  already in flight under the old bound may hold objects below mid: those are dropped (the
  thief reads them), and that range is then done, everything after them being older still.
  A range is split only when it is expected to hold ``steal_pages`` pages more, so the extra
  calls (one partial last page per range, one call per empty range) stay few.

Every second is read by one thread at a time, in Stripe's order: a caller that sorts what it
gets by ``created``, newest first and stably, has the sequential listing's order exactly.
Pages are handed to the calling thread through a queue; only it touches what the pages go
into. The first error of any thread stops the others and is raised in the caller.
"""

from __future__ import annotations

import math
import queue
import threading
from collections.abc import Callable, Generator
from dataclasses import dataclass
from typing import Any

from .strategy import PAGE

__all__ = ["FLOOR", "Partitioning", "newest_first", "partitioned_pages"]

# 2010-01-01 UTC: Stripe was founded in 2010, so no object of any account is older. Only the
# split points use it: the oldest range is sent without a lower bound.
FLOOR = 1_262_304_000

Fetch = Callable[[dict[str, Any]], dict[str, Any]]
Page = list[dict[str, Any]]


@dataclass(frozen=True)
class Partitioning:
    """How a listing is partitioned. ``range_pages``: the pages an initial range is expected
    to hold at least (fewer expected objects make fewer ranges); ``steal_pages``: the pages a
    busy range must be expected to hold still before half of it is taken."""

    concurrency: int = 4
    page: int = PAGE
    range_pages: int = 4
    steal_pages: int = 4


def partitioned_pages(
    fetch: Fetch,
    params: dict[str, Any],
    how: Partitioning,
    expected: int | None = None,
    *,
    narrow: int = 1,
    ahead: int | None = None,
) -> Generator[Page, None, None]:
    """The pages of the list ``fetch`` reads with ``params``, in no fixed order.

    ``fetch(params)`` makes one call and returns the page; ``expected``: about how many
    objects the whole list holds, when known.

    For a caller that may stop reading (a listing that goes on only while it pays): the first
    ``narrow`` pages are one chain, each read only when asked for, so stopping within them
    costs what the sequential listing costs; after them at most ``ahead`` pages are fetched
    beyond those the caller has taken, which bounds the calls wasted by stopping."""
    page = fetch({**params, "limit": how.page})
    data: Page = page.get("data", [])
    seen = len(data)
    yield data
    for _ in range(narrow - 1):
        if not page.get("has_more") or not data:
            return
        page = fetch({**params, "limit": how.page, "starting_after": data[-1]["id"]})
        data = page.get("data", [])
        seen += len(data)
        yield data
    if not page.get("has_more") or not data:
        return
    yield from _Lister(fetch, params, how, data, expected, seen=seen, ahead=ahead).run()


def newest_first(objs: Page) -> None:
    """Put one customer's objects from a partitioned listing back in the sequential
    listing's order: ``created`` descending; a second's objects came from one range in
    Stripe's order, which the stable sort keeps."""
    objs.sort(key=lambda o: -o["created"])


class _Range:
    """[lo, hi] in whole seconds (``lo`` None: no lower bound) and how far it is read."""

    __slots__ = ("cursor", "hi", "lo", "seen", "top")

    def __init__(self, lo: int | None, hi: int, cursor: str | None = None) -> None:
        self.lo, self.hi, self.cursor = lo, hi, cursor
        self.top = hi  # the created of the last object read, or hi before any
        self.seen = 0


_DONE = object()


class _Failed:
    def __init__(self, exc: BaseException) -> None:
        self.exc = exc


class _Lister:
    def __init__(
        self, fetch: Fetch, params: dict[str, Any], how: Partitioning, first: Page,
        expected: int | None, *, seen: int, ahead: int | None = None,
    ) -> None:  # fmt: skip
        """``first``: the last page read so far (the rest is what lies after it); ``seen``:
        the objects read so far; ``ahead``: fetches allowed beyond the pages taken."""
        self.fetch, self.params, self.how = fetch, params, how
        self.expected, self.seen = expected, seen
        # Fetches that may start before the caller takes another page.
        self.credit: float = math.inf if ahead is None else max(1, ahead)
        newest, c0 = first[0]["created"], first[-1]["created"]
        self.density = len(first) / max(1, newest - c0 + 1)
        if expected is None:
            n = how.concurrency
            span = max(n, c0 - FLOOR)
        else:
            left = max(0, expected - len(first))
            n = max(1, min(how.concurrency, left // (how.page * how.range_pages)))
            span = max(n, math.ceil(left / self.density))
        width = max(1, span // n)
        self.floor = max(FLOOR, c0 - n * width) if expected is not None else FLOOR
        bounds = [c0 - k * width for k in range(1, n)]
        his = [c0, *(b - 1 for b in bounds)]
        los: list[int | None] = [*bounds, None]
        self.active = [_Range(lo, hi) for lo, hi in zip(los, his, strict=True)]
        # The newest range is the first page's chain: its density is known from the start.
        chain = self.active[0]
        chain.hi, chain.top, chain.cursor, chain.seen = newest, c0, first[-1]["id"], len(first)
        self.cond = threading.Condition()
        self.stop = False
        self.out: queue.SimpleQueue[Any] = queue.SimpleQueue()

    def run(self) -> Generator[Page, None, None]:
        start: list[_Range | None] = [*self.active]
        start += [None] * (self.how.concurrency - len(start))
        threads = [
            threading.Thread(target=self._work, args=(r,), name=f"stripe-list-{i}", daemon=True)
            for i, r in enumerate(start)
        ]
        for t in threads:
            t.start()
        try:
            running = len(threads)
            while running:
                item = self.out.get()
                if item is _DONE:
                    running -= 1
                elif isinstance(item, _Failed):
                    raise item.exc
                else:
                    with self.cond:  # taken: one more fetch may start
                        self.credit += 1
                        self.cond.notify_all()
                    yield item
        finally:
            with self.cond:
                self.stop = True
                self.cond.notify_all()
            for t in threads:
                t.join()

    def _work(self, r: _Range | None) -> None:
        try:
            while True:
                with self.cond:
                    while r is None and not self.stop and self.active:
                        r = self._steal()
                        if r is None:
                            self.cond.wait()
                    while self.credit < 1 and not self.stop:
                        self.cond.wait()
                    if r is None or self.stop:
                        return
                    self.credit -= 1
                    p = self._params(r)
                page = self.fetch(p)
                with self.cond:
                    done, handed = self._take(r, page)
                    if not handed:  # nothing for the caller to take: the credit comes back
                        self.credit += 1
                    if done:
                        self.active.remove(r)
                        r = None
                    self.cond.notify_all()
        except BaseException as exc:
            with self.cond:
                self.stop = True
                self.cond.notify_all()
            self.out.put(_Failed(exc))
        finally:
            self.out.put(_DONE)

    def _params(self, r: _Range) -> dict[str, Any]:
        created: dict[str, int] = {"lte": r.hi}
        if r.lo is not None:
            created["gte"] = r.lo
        p = {**self.params, "created": created, "limit": self.how.page}
        if r.cursor is not None:
            p["starting_after"] = r.cursor
        return p

    def _take(self, r: _Range, page: dict[str, Any]) -> tuple[bool, bool]:
        """Hand on the page's objects still in ``r``; whether ``r`` is done, and whether
        anything was handed on."""
        data: Page = page.get("data", [])
        kept = data if r.lo is None else [o for o in data if o["created"] >= r.lo]
        if kept:
            r.cursor, r.top = kept[-1]["id"], kept[-1]["created"]
            r.seen += len(kept)
            self.seen += len(kept)
            self.out.put(kept)
        return len(kept) < len(data) or not data or not page.get("has_more"), bool(kept)

    def _steal(self) -> _Range | None:
        """The older half of the busy range expected to hold the most unread objects."""
        best: _Range | None = None
        best_lo, most, best_density = 0, 0.0, self.density
        left = math.inf
        if self.expected is not None:
            # An estimate already exceeded is raised: the listing is longer than thought.
            left = max(self.expected, self.seen * 5 // 4) - self.seen
        for v in self.active:
            if not v.seen:
                continue  # nothing read yet: neither its density nor its extent is known
            lo = v.lo if v.lo is not None else (self.floor if v.top > self.floor else FLOOR)
            if v.top - lo < 1:
                continue  # one second: it cannot be split
            density = v.seen / max(1, v.hi - v.top + 1)
            unread = min(left, density * (v.top - lo + 1))
            if unread > most:
                best, best_lo, most, best_density = v, lo, unread, density
        if best is None or most < self.how.steal_pages * self.how.page:
            return None
        # Split where half of what the busy range is expected to hold still lies above: the
        # middle of its seconds, or nearer its top when the whole listing holds fewer.
        seconds = max(1, math.ceil(most / 2 / best_density))
        mid = max(best_lo + 1, best.top - seconds + 1)
        taken = _Range(best.lo, mid - 1)
        best.lo = mid
        self.active.append(taken)
        return taken
