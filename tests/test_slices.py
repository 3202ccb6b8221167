"""The merge of two Id-ordered streams into slices, and the cycle's on-disk listing."""

from __future__ import annotations

from sync.slices import slices
from sync.store.spill import Spill


def _accounts(*ids):
    return [{"Id": i} for i in ids]


def _rows(*pairs):
    return [{"Id": f"a{n}", "Account__c": acct} for n, acct in enumerate(pairs)]


def test_each_slice_takes_the_rows_up_to_its_last_account():
    accounts = _accounts("001A", "001B", "001C", "001D", "001E")
    rows = _rows("0019", "001A", "001A", "001C", "001D", "001E", "001F")
    got = [([a["Id"] for a in batch], [r["Account__c"] for r in subs])
           for batch, subs in slices(iter(accounts), iter(rows), 2)]
    assert got == [
        # a row of an Account before the first (not linked) rides along, harmlessly
        (["001A", "001B"], ["0019", "001A", "001A"]),
        (["001C", "001D"], ["001C", "001D"]),
        (["001E"], ["001E"]),  # a row past the last Account is dropped
    ]


def test_the_streams_are_read_only_as_far_as_the_slice_needs():
    pulled = []

    def stream(items):
        for item in items:
            pulled.append(item["Id"])
            yield item

    accounts = stream(_accounts("001A", "001B", "001C"))
    rows = stream([{"Id": "s1", "Account__c": "001A"}, {"Id": "s2", "Account__c": "001C"}])
    first = next(slices(accounts, rows, 1))
    assert [a["Id"] for a in first[0]] == ["001A"]
    assert pulled == ["s1", "001A", "s2"]  # one row ahead, no further Account


def test_no_size_is_one_slice_of_everything_and_no_accounts_no_slice():
    accounts = _accounts("001A", "001B")
    [(batch, subs)] = list(slices(accounts, _rows("001B"), None))
    assert len(batch) == 2 and len(subs) == 1
    assert list(slices([], _rows("001A"), 3)) == []


def test_the_spill_gives_each_customer_its_objects_in_order_and_things_by_id():
    spill = Spill()
    try:
        spill.add([("cus_A", {"id": "sub_1"}), ("cus_B", {"id": "sub_2"})])
        spill.add([("cus_A", {"id": "sub_3", "n": [1, None, "x"]})])
        assert spill.count == 3
        got = spill.for_customers(["cus_A", "cus_C"])
        assert got == {"cus_A": [{"id": "sub_1"}, {"id": "sub_3", "n": [1, None, "x"]}]}
        many = [f"cus_{n}" for n in range(1200)]  # more ids than one lookup takes
        spill.add((cid, {"id": cid}) for cid in many)
        assert len(spill.for_customers(many)) == 1200
        spill.put([("cus_X", {"id": "cus_X", "deleted": True})])
        spill.put([("cus_X", {"id": "cus_X", "deleted": False})])
        assert spill.get(["cus_X", "cus_Y"]) == {"cus_X": {"id": "cus_X", "deleted": False}}
    finally:
        spill.close()
