"""The garbage collector's settings for a process that runs cycles.

A cycle allocates millions of small objects (JSON pages, rows, values) that nearly all live
until the cycle ends, and makes almost no reference cycles. With CPython's defaults (a young
collection every 700 net allocations) the collector keeps walking that growing heap to free
nothing, and promotes it all into the old generation, whose full collections walk it again.
Fewer young collections cost a bounded amount of memory (at most ``YOUNG`` objects wait to be
looked at) and remove most of those walks; what the process built before its first cycle is
frozen out of every collection for good.
"""

from __future__ import annotations

import gc

__all__ = ["OLD", "YOUNG", "tune_for_cycles"]

YOUNG = 50_000  # net allocations between young collections (CPython's default: 700)
OLD = 20  # young collections between middle-generation ones (default: 10)


def tune_for_cycles() -> None:
    """Call once, after start-up: freeze what exists, then collect less often."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(YOUNG, OLD, gc.get_threshold()[2])
