"""Row locks in the Salesforce stand-in: a write waits for the rows another transaction in
flight holds (the record, or the Account a Subscription__c points at) and fails that record
with Salesforce's UNABLE_TO_LOCK_ROW once the wait runs out; the rest of the call stands."""

from __future__ import annotations

import threading

from simple_salesforce import Salesforce

from standins.salesforce.rowlocks import RowLocks

SUBS = "composite/sobjects/Subscription__c/Stripe_Subscription_Id__c"
LOCKED = "unable to obtain exclusive access to this record or 1 records: {}"


def _accounts(standin, n):
    return standin.org.insert_many(
        "Account", [{"Name": f"Co {i}", "Stripe_Customer_Id__c": f"cus_{i}"} for i in range(n)])


def _update(sf, ids):
    return sf.restful("composite/sobjects", method="PATCH", json={"allOrNone": False, "records": [
        {"attributes": {"type": "Account"}, "Id": rid, "MRR__c": 1} for rid in ids]})


def _upsert(sf, parents):
    return sf.restful(SUBS, method="PATCH", json={"allOrNone": False, "records": [
        {"attributes": {"type": "Subscription__c"}, "Stripe_Subscription_Id__c": f"sub_{n}",
         "Name": f"Sub {n}", "Plan__c": "Pro", "Account__c": parent}
        for n, parent in enumerate(parents)]})


def test_a_held_account_fails_its_own_update_with_salesforces_error(billing, sf: Salesforce):
    ids = _accounts(billing, 3)
    release = billing.hold_row_locks(ids[1])
    res = _update(sf, ids)
    assert [r["success"] for r in res] == [True, False, True]
    assert res[1] == {"id": ids[1], "success": False, "errors": [
        {"statusCode": "UNABLE_TO_LOCK_ROW", "message": LOCKED.format(ids[1]), "fields": []}]}
    assert billing.org.get("Account", ids[1])["MRR__c"] is None
    release()
    assert all(r["success"] for r in _update(sf, ids))
    assert billing.org.row_locks.held() == []


def test_a_child_upsert_needs_its_parent_accounts_lock(billing, sf: Salesforce):
    ids = _accounts(billing, 2)
    release = billing.hold_row_locks(ids[0])
    res = _upsert(sf, [ids[0], ids[1], ids[0]])
    assert [r["success"] for r in res] == [False, True, False]
    assert res[0] == {"success": False, "errors": [
        {"statusCode": "UNABLE_TO_LOCK_ROW", "message": LOCKED.format(ids[0]), "fields": []}]}
    release()
    res = _upsert(sf, [ids[0], ids[1], ids[0]])
    assert [(r["success"], r["created"]) for r in res] == [(True, True), (True, False),
                                                           (True, True)]


def test_a_transaction_in_flight_is_waited_for_then_times_out():
    locks = RowLocks(timeout=0.0)
    first, second = object(), object()
    assert locks.acquire(first, ["001A", "001B"]) == []
    assert locks.acquire(first, ["001A"]) == []  # a transaction's own locks are its own
    assert locks.acquire(second, ["001C", "001B"]) == ["001B"]  # nothing taken then
    assert locks.held() == ["001A", "001B"]
    locks.timeout = 60.0
    got: list[list[str]] = []
    waiting = threading.Thread(target=lambda: got.append(locks.acquire(second, ["001B"])))
    waiting.start()
    locks.release(first)  # the waiter gets the row as soon as the holder ends
    waiting.join()
    assert got == [[]] and locks.held() == ["001B"]
