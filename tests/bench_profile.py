"""cProfile of one unchanged full cycle at zero latency, stand-ins in another process (the
benchmark's world and pinned clock): where the engine's own CPU goes.

    python -m tests.bench_profile [--accounts N] [--out FILE.prof] [--top K]
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import sys
import tempfile
import time
from pathlib import Path

from scheduler.collector import tune_for_cycles
from tests.bench_cycle import AT, T0, Engine
from tests.bench_world import StandInProcess

__all__ = ["main"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.bench_profile", description=__doc__)
    parser.add_argument("--accounts", type=int, default=10_000)
    parser.add_argument("--out", type=Path, default=Path(".bench/unchanged.prof"))
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--gc", choices=("daemon", "default"), default="daemon")
    args = parser.parse_args(argv)
    n = args.accounts
    if args.gc == "daemon":
        tune_for_cycles()
    with (
        tempfile.TemporaryDirectory(prefix="billing-sync-profile-") as tmp,
        StandInProcess(Path(tmp)) as world,
    ):
        eng = Engine(world, Path(tmp))
        world.call("seed", accounts=n, subscriptions=n * 6 // 5, without_subs=n // 50,
                   now=int(T0.timestamp()))  # fmt: skip
        for at in (AT["first"], AT["unchanged"]):
            eng.now = at
            world.call("set_time", now=int(at.timestamp()))
            if at == AT["first"]:
                eng.full()
        cpu = time.process_time()
        prof = cProfile.Profile()
        prof.enable()
        report = eng.full()
        prof.disable()
        cpu = time.process_time() - cpu
    args.out.parent.mkdir(parents=True, exist_ok=True)
    prof.dump_stats(args.out)
    print(f"unchanged cycle at {n:,} Accounts: {cpu:.2f} s CPU under the profiler, "
          f"{report.written} records written")
    stats = pstats.Stats(str(args.out))
    stats.sort_stats("tottime").print_stats(args.top)
    stats.sort_stats("cumulative").print_stats(args.top)
    return 0


if __name__ == "__main__":
    sys.exit(main())
