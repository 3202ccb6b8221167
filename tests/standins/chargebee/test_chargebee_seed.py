"""Bulk seeding for the benchmark, and what ``billing-sync emulator chargebee`` will run."""

from __future__ import annotations

import threading
import time

import requests

from standins.chargebee import ChargebeeStandIn, serve_forever


def test_ten_thousand_customers_with_subscriptions() -> None:
    # How fast seeding is belongs to the benchmark, not to a timed test on a shared machine.
    s = ChargebeeStandIn()
    s.set_time(1_793_577_600)
    ids = s.seed_bulk(10_000)
    assert len(ids) == 10_000 and len(s.store.data["subscription"]) == 10_000
    statuses = {sub["status"] for sub in s.store.data["subscription"].values()}
    assert statuses == {"active", "in_trial", "non_renewing", "paused", "cancelled", "future"}
    with s:
        session = requests.Session()
        session.auth = (s.api_key, "")
        page = session.get(s.api_base + "/subscriptions", timeout=5,
                           params={"limit": 100, "status[in]": "['active']",
                                   "sort_by[asc]": "updated_at"}).json()  # fmt: skip
        assert len(page["list"]) == 100 and page["next_offset"]
        assert all(e["subscription"]["mrr"] > 0 for e in page["list"])
    s.advance_time(31 * 86_400)  # every live seeded subscription renews through the clock
    renewed = [x for x in s.store.data["subscription"].values() if x["status"] == "active"]
    assert all(x["current_term_end"] > s.now() for x in renewed)


def test_serve_forever_prints_the_base_url_site_and_key() -> None:
    lines: list[str] = []
    t = threading.Thread(target=serve_forever, args=(0, lines.append), daemon=True)
    t.start()
    for _ in range(100):
        if len(lines) >= 3:
            break
        time.sleep(0.01)
    assert lines[0].startswith("Chargebee stand-in listening on http://127.0.0.1:")
    assert lines[1] == "Site: billing-sync-test" and lines[2] == "API key: test_standin_key"
