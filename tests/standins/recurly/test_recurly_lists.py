"""Lists as v2021-02-25 pages them: limit, order, sort, begin/end_time, state, cursors, HEAD."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

T0 = 1_793_577_600  # 2026-11-02 00:00 UTC, as in conftest
DAY = 86_400


def iso(ts: int) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def make_accounts(standin, client, n: int) -> list[str]:
    codes = []
    for i in range(n):
        client.create_account({"code": f"acct-{i:02d}"})
        codes.append(f"acct-{i:02d}")
        standin.advance_time(60)
    return codes


def test_default_page_is_20_newest_first_with_a_next_path(standin, client, http) -> None:
    codes = make_accounts(standin, client, 25)
    body = http("GET", "/accounts").json()
    assert body["object"] == "list" and body["has_more"] is True
    assert [a["code"] for a in body["data"]] == codes[::-1][:20]
    nxt = body["next"]
    assert nxt.startswith("/accounts?") and "cursor" in parse_qs(urlsplit(nxt).query)
    rest = http("GET", nxt).json()
    assert [a["code"] for a in rest["data"]] == codes[::-1][20:]
    assert rest["has_more"] is False and rest["next"] is None


def test_sdk_pager_walks_every_page_in_order(standin, client) -> None:
    codes = make_accounts(standin, client, 7)
    pager = client.list_accounts(params={"limit": 3, "order": "asc"})
    pages = [[a.code for a in p] for p in pager.pages()]
    assert pages == [codes[:3], codes[3:6], codes[6:]]
    assert pager.count() == 7  # HEAD -> Recurly-Total-Records


def test_updated_at_ascending_with_begin_time_sees_changed_records_again(standin, client) -> None:
    codes = make_accounts(standin, client, 5)
    since = iso(standin.now())
    standin.advance_time(60)
    client.update_account("code-" + codes[1], {"company": "Changed"})
    standin.advance_time(60)
    client.update_account("code-" + codes[3], {"company": "Changed too"})
    params = {"sort": "updated_at", "order": "asc", "begin_time": since, "limit": 1}
    got = [a.code for a in client.list_accounts(params=params).items()]
    assert got == [codes[1], codes[3]]
    window = {"sort": "created_at", "begin_time": iso(T0 + 60), "end_time": iso(T0 + 180)}
    assert [a.code for a in client.list_accounts(params=window).items()] == codes[1:4][::-1]


def test_a_record_updated_mid_walk_ascending_is_not_lost(standin, client, http) -> None:
    codes = make_accounts(standin, client, 4)
    first = http("GET", "/accounts", params={"sort": "updated_at", "order": "asc",
                                              "limit": 2}).json()  # fmt: skip
    assert [a["code"] for a in first["data"]] == codes[:2]
    client.update_account("code-" + codes[0], {"company": "moved"})  # jumps behind the cursor
    rest = http("GET", first["next"]).json()
    assert rest["has_more"] is True  # the moved record waits at the end
    walked = [a["code"] for a in rest["data"]]
    while rest["has_more"]:
        rest = http("GET", rest["next"]).json()
        walked += [a["code"] for a in rest["data"]]
    assert walked == [codes[2], codes[3], codes[0]]


def test_state_filter_and_account_subscriptions(standin, client, subscribe) -> None:
    a = subscribe("a")
    b = subscribe("b")
    client.cancel_subscription(b.id)
    fut = subscribe("a", starts_at=iso(T0 + 5 * DAY))
    assert [s.id for s in client.list_subscriptions(params={"state": "canceled"}).items()] == [b.id]
    live = {s.id for s in client.list_subscriptions(params={"state": "live"}).items()}
    assert live == {a.id, b.id, fut.id}
    mine = [s.id for s in client.list_account_subscriptions("code-a").items()]
    assert mine == [fut.id, a.id]
    future = client.list_account_subscriptions("code-a", params={"state": "future"}).items()
    assert [s.id for s in future] == [fut.id]


def test_ids_returns_those_records_only_and_stands_alone(client, http) -> None:
    x = client.create_account({"code": "x"})
    client.create_account({"code": "y"})
    got = http("GET", "/accounts", params={"ids": f"{x.id},nope"}).json()
    assert [a["code"] for a in got["data"]] == ["x"]
    r = http("GET", "/accounts", params={"ids": x.id, "limit": 5})
    assert r.status_code == 400 and r.json()["error"]["type"] == "bad_request"


def test_bad_list_parameters_are_refused(http) -> None:
    for params in ({"limit": 0}, {"limit": 201}, {"limit": "ten"}, {"order": "up"},
                   {"sort": "name"}, {"begin_time": "yesterday"}, {"cursor": "garbage"},
                   {"state": "paused"}, {"per_page": 50}, {"page": 2}):  # fmt: skip
        path = "/subscriptions"
        r = http("GET", path, params=params)
        assert r.status_code == 400, params
        err = r.json()["error"]
        assert err["type"] == "bad_request" and err["params"][0]["param"] == next(iter(params))
    assert http("GET", "/accounts", params={"limit": 200}).status_code == 200
    assert http("GET", "/accounts", params={"state": "active"}).status_code == 400  # no filter


def test_cursor_is_bound_to_its_sort_and_order(standin, client, http) -> None:
    make_accounts(standin, client, 3)
    first = http("GET", "/accounts", params={"limit": 1}).json()
    query = parse_qs(urlsplit(first["next"]).query)
    r = http("GET", "/accounts", params={"cursor": query["cursor"][0], "order": "asc"})
    assert r.status_code == 400 and r.json()["error"]["params"][0]["param"] == "cursor"


def test_plans_add_ons_coupons_and_invoices_list(client, plan, subscribe) -> None:
    subscribe()
    assert [p.code for p in client.list_plans(params={"state": "active"}).items()] == ["team"]
    assert [a.code for a in client.list_plan_add_ons(plan.id).items()] == ["api", "seat"]
    client.remove_plan(plan.id)
    assert list(client.list_plans(params={"state": "active"}).items()) == []
    client.create_coupon({"code": "c", "name": "C", "discount_type": "percent",
                          "discount_percent": 5})  # fmt: skip
    assert [c.code for c in client.list_coupons().items()] == ["c"]
    assert [i.state for i in client.list_invoices(params={"type": "charge"}).items()] == ["paid"]
