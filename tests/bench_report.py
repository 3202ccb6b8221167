"""The benchmark's markdown: one table ready for the README, then the budget lines."""

from __future__ import annotations

import os
import platform
from pathlib import Path
from typing import Any

__all__ = ["machine", "render"]


def machine() -> str:
    model = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (f"{os.cpu_count()} CPUs ({model}), Python {platform.python_version()}, "
            f"{platform.system()} {platform.release()}")  # fmt: skip


def _calls(m: Any, svc: str) -> str:
    n = m.calls.get(svc, 0)
    if m.budget is None:
        return f"{n:,}"
    b = m.budget.sf_total if svc == "salesforce" else m.budget.stripe_total
    return f"{n:,} / {b:,}"


def _ratio(m: Any) -> str:
    return f"{m.total / m.budget.total:.2f}" if m.budget and m.budget.total else "-"


def render(cpu: Any, timed: Any | None) -> str:
    lat = timed.latency if timed else None
    lat_text = (f"Stripe {lat['stripe'] * 1000:g} ms, Salesforce {lat['salesforce'] * 1000:g} "
                "ms per call" if lat else "not run")  # fmt: skip
    f = cpu.facts
    lines = [
        f"Machine: {machine()}.",
        f"Data: {cpu.accounts:,} linked Accounts ({f.customers_without_subs:,} of them with no "
        f"subscription), {f.stripe_subscriptions:,} Stripe subscriptions, {f.products} products; "
        f"{len(f.mixed_currency):,} customers mix currencies. Stand-ins in another process; "
        f"CPU and peak RSS are the engine process's own, at zero latency. Injected latency: "
        f"{lat_text}. Concurrency: Stripe listing {cpu.concurrency['stripe']}, Salesforce "
        f"writes {cpu.concurrency['salesforce']}. Floors: calls x latency (one call at a time), "
        "and calls x latency / concurrency per service.",
        "",
        "| scenario | engine CPU | per Account | peak RSS | Stripe calls / budget | "
        "Salesforce calls / budget | ratio | wall at latency | floor, 1 at a time "
        "| floor at concurrency |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    walls = {m.scenario: m for m in (timed.scenarios + timed.baselines)} if timed else {}
    for m in cpu.scenarios + cpu.baselines:
        w = walls.get(m.scenario)
        wall = f"{w.wall_s:.1f} s" if w else "-"
        floor = f"{w.floor_s(lat):.1f} s" if w and lat else "-"
        par = f"{w.floor_s(lat, cpu.concurrency):.1f} s" if w and lat else "-"
        per = m.cpu_s / (m.units or cpu.accounts) * 1e6
        lines.append(
            f"| {m.scenario} | {m.cpu_s:.2f} s | {per:,.0f} µs | {m.peak_mb:,.0f} MB "
            f"| {_calls(m, 'stripe')} | {_calls(m, 'salesforce')} | {_ratio(m)} | {wall} "
            f"| {floor} | {par} |"
        )
    lines.append("")
    mismatch = []
    if timed:
        for a, b in zip(cpu.scenarios, timed.scenarios, strict=True):
            if a.calls != b.calls:
                mismatch.append(f"{a.scenario}: {a.calls} at zero latency, {b.calls} at latency")
    lines.append("Calls at zero latency and at latency: " + (
        "identical in every scenario (the pinned clock)." if not mismatch
        else "DIFFER: " + "; ".join(mismatch)))  # fmt: skip
    lines += ["", "Budget lines (from the seeded data alone) and the calls by endpoint:", ""]
    for m in cpu.scenarios + cpu.baselines[:1]:
        if m.budget is None:
            continue
        lines.append(f"- {m.scenario}: " + "; ".join(m.budget.lines()) + f" (total "
                     f"{m.budget.total}). Measured: {m.endpoints}. {m.note}")  # fmt: skip
    over = [m.scenario for m in cpu.scenarios if m.budget and m.total > 1.1 * m.budget.total]
    lines += ["", "Over 1.1x the budget: " + (", ".join(over) if over else "none") + "."]
    return "\n".join(lines) + "\n"
