"""Match hygiene: only well-formed, unshared Stripe ids are synced; nothing is guessed."""

from metadata.schema import Category
from sync.core.failures import Failure
from sync.core.matching import match_accounts
from sync.stripe_io.source import choose_strategy


def acct(i, cid, name=None):
    return {"Id": f"001{i:015d}", "Name": name or f"Acme {i}", "Stripe_Customer_Id__c": cid}


def test_malformed_and_duplicate_ids_are_reported_not_matched():
    accounts = [acct(1, "cus_A1"), acct(2, " cus_B2"), acct(3, "cus_C3"), acct(4, "cus_C3"),
                acct(5, "CUS_x"), acct(6, "cus_with space"), acct(7, "sub_123")]
    matched, problems = match_accounts(accounts)
    assert list(matched) == ["cus_A1"]
    by_account = {p.account_id[-1]: p.code for p in problems}
    assert by_account == {"2": "MALFORMED_ID", "3": "DUPLICATE_ID", "4": "DUPLICATE_ID",
                          "5": "MALFORMED_ID", "6": "MALFORMED_ID", "7": "MALFORMED_ID"}
    dup = next(p for p in problems if p.code == "DUPLICATE_ID")
    assert "Acme 3" in dup.message and "Acme 4" in dup.message


def test_an_account_without_an_id_is_reported_as_such():
    _, [problem] = match_accounts([acct(1, None, "Blank")])
    assert problem.code == "NO_CUSTOMER_ID" and "has no Stripe Customer ID" in problem.message


def test_same_name_different_ids_are_separate_customers():
    matched, problems = match_accounts([acct(1, "cus_A", "Acme"), acct(2, "cus_B", "Acme")])
    assert set(matched) == {"cus_A", "cus_B"} and problems == []


def test_fingerprint_is_stable_and_names_what_and_why():
    a = Failure(Category.VALIDATION, "FIELD_CUSTOM_VALIDATION_EXCEPTION", "msg 1", "001X")
    b = Failure(Category.VALIDATION, "FIELD_CUSTOM_VALIDATION_EXCEPTION", "other text", "001X")
    c = Failure(Category.VALIDATION, "STRING_TOO_LONG", "msg 1", "001X")
    assert a.fingerprint == b.fingerprint != c.fingerprint
    assert len(a.fingerprint) <= 255


def test_fetch_strategy_picks_fewer_calls():
    assert choose_strategy(5, None) == "per_customer"
    assert choose_strategy(10_000, None) == "list_all"
    assert choose_strategy(10_000, 12_000) == "list_all"  # 120 pages < 10,000 listings
    assert choose_strategy(50, 1_000_000) == "per_customer"  # 50 listings < 10,000 pages
    assert choose_strategy(200, 12_000) == "list_all"
