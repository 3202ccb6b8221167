"""100,000 Accounts: seeding, query-all paging and 200-record upserts at benchmark scale. How
fast is printed (and measured by `make bench`), never asserted: timed tests flake."""

from __future__ import annotations

import time

import pytest

N = 100_000


@pytest.mark.slow
def test_100k_accounts_query_all_and_collections_upsert(billing, sf) -> None:
    t0 = time.perf_counter()
    billing.org.insert_many("Account", (
        {"Name": f"Customer {i}", "Stripe_Customer_Id__c": f"cus_{i:07d}"} for i in range(N)))
    seeded = time.perf_counter() - t0

    t0 = time.perf_counter()
    rows = list(sf.query_all_iter(
        "SELECT Id, Stripe_Customer_Id__c, MRR__c FROM Account "
        "WHERE Stripe_Customer_Id__c != null"))
    query_all = time.perf_counter() - t0
    assert len(rows) == N and billing.counters["GET query/{locator}"] == N // 2000 - 1

    t0 = time.perf_counter()
    batches = 10
    for b in range(batches):
        body = {"allOrNone": False, "records": [
            {"attributes": {"type": "Account"}, "Stripe_Customer_Id__c": f"cus_{i:07d}",
             "MRR__c": 42.5, "Billing_Status__c": "Active"}
            for i in range(b * 10_000, b * 10_000 + 200)]}
        res = sf.restful("composite/sobjects/Account/Stripe_Customer_Id__c", method="PATCH",
                         json=body)
        assert all(r["success"] and r["created"] is False for r in res)
    per_upsert = (time.perf_counter() - t0) / batches

    t0 = time.perf_counter()
    one = sf.query("SELECT Id FROM Account WHERE Stripe_Customer_Id__c = 'cus_0050000'")
    point = time.perf_counter() - t0
    assert one["totalSize"] == 1
    print(f"\nseed {N}: {seeded:.2f}s; query all: {query_all:.2f}s; "
          f"200-record upsert: {per_upsert * 1000:.0f} ms; indexed point query: "
          f"{point * 1000:.1f} ms")
