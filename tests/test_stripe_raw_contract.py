"""The raw read path (JSON straight into dicts) and the SDK path (StripeObjects) are one reader.

Every recorded scenario is replayed twice, once per path, with the recorder's own checkpoint
(``StripeSource(client).fetch(ids)``): both paths must make exactly the recorded requests
(the cassette matcher compares method, path and query, so the query strings must be the
SDK's) and return equal ``sync.model`` values. The same holds against the Stripe stand-in,
which refuses unknown or malformed parameters, for a seeded account with coupons, tiers, a
deleted customer and ids Stripe rejects; and Stripe's error replies reach the error table as
the same exceptions either way.
"""

from __future__ import annotations

import gzip
import logging
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler
from typing import Any

import pytest
import stripe

from standins.stripe import StripeStandIn
from sync.errors import RetryLater, SkipRecord, StopCycle
from sync.model import BillingSnapshot
from sync.stripe_io import StripeSource
from sync.stripe_io.raw import RawReader
from tests.loopback import serve
from tests.stripe_scenarios import SCENARIOS
from tests.stripe_scenarios.replay import cassette_path, replay_vcr

NOWHERE = "http://127.0.0.1:9"  # nothing listens: a request not in the cassette fails
PATHS = {"raw": True, "sdk": False}


def _no_sleep(_seconds: float) -> None:
    pass


def replay(name: str, raw: bool) -> list[tuple[str, BillingSnapshot]]:
    client = stripe.StripeClient("sk_test_fake_replay", base_addresses={"api": NOWHERE})
    seen: list[tuple[str, BillingSnapshot]] = []

    def checkpoint(label: str, customer_ids: list[str]) -> None:
        seen.append((label, StripeSource(client, raw=raw, sleep=_no_sleep).fetch(customer_ids)))

    with replay_vcr().use_cassette(str(cassette_path(name))) as cassette:
        SCENARIOS[name](client, checkpoint)
        assert cassette.all_played, f"{name}: recorded requests the {raw=} path never made"
    return seen


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_both_paths_replay_every_cassette_to_the_same_values(name: str) -> None:
    raw, sdk = replay(name, raw=True), replay(name, raw=False)
    assert [label for label, _ in raw] == [label for label, _ in sdk]
    assert raw == sdk
    assert all(snap.customers for _, snap in raw), "each checkpoint read a customer"


# -- against the stand-in ------------------------------------------------------------------
@pytest.fixture(scope="module")
def account() -> Iterator[tuple[StripeStandIn, stripe.StripeClient, list[str]]]:
    standin = StripeStandIn()
    ids = standin.seed_bulk(customers=150, subscriptions=260, seed=7)
    url = standin.start()
    c = stripe.StripeClient(standin.api_key, base_addresses={"api": url})
    product = c.v1.products.create(params={"name": "Usage"}).id
    tiered = c.v1.prices.create(params={
        "product": product, "currency": "usd", "recurring": {"interval": "month"},
        "billing_scheme": "tiered", "tiers_mode": "volume",
        "tiers": [{"up_to": 10, "unit_amount": 100}, {"up_to": "inf", "unit_amount": 80}],
    }).id  # fmt: skip
    card = {"payment_method": "pm_card_visa",
            "invoice_settings": {"default_payment_method": "pm_card_visa"}}  # fmt: skip
    # More coupons than are fetched one by one, so the coupon listing is read too.
    for n in range(5):
        coupon = c.v1.coupons.create(params={"percent_off": 5 + n, "duration": "forever"}).id
        cid = c.v1.customers.create(params={"name": f"Coupon {n}", **card}).id
        c.v1.subscriptions.create(params={
            "customer": cid, "items": [{"price": tiered, "quantity": 12 + n}],
            "discounts": [{"coupon": coupon}],
        })  # fmt: skip
        ids.append(cid)
    ids.append(c.v1.customers.create(params={"name": "Never subscribed"}).id)
    gone = c.v1.customers.create(params={"name": "Gone"}).id
    c.v1.customers.delete(gone)
    ids += [gone, "cus_NoSuchCustomer", "cus_ABC 123"]
    try:
        yield standin, c, ids
    finally:
        standin.stop()


def both(c: stripe.StripeClient, ids: list[str], **kw: Any) -> tuple[BillingSnapshot, ...]:
    return tuple(
        StripeSource(c, raw=raw, sleep=_no_sleep).fetch(ids, **kw) for raw in PATHS.values()
    )


def test_both_paths_read_a_seeded_account_listing_it_all(account) -> None:
    _standin, c, ids = account
    raw, sdk = both(c, ids)
    assert raw.stats.strategy == "list_all"
    assert raw == sdk
    assert len(raw.customers) == len(ids) - 2 and raw.missing == {"cus_NoSuchCustomer",
                                                                  "cus_ABC 123"}  # fmt: skip
    assert any(s.discounts for cus in raw.customers.values() for s in cus.subscriptions)
    assert any(i.price.tiers for cus in raw.customers.values() for s in cus.subscriptions
               for i in s.items)  # fmt: skip


def test_both_paths_read_customer_by_customer(account) -> None:
    _standin, c, ids = account
    few = ids[:3] + ids[-8:]  # seeded, coupons and tiers, never subscribed, deleted, rejected
    raw, sdk = both(c, few, expected_subscriptions=100_000)
    assert raw.stats.strategy == "per_customer"
    assert raw == sdk
    assert raw.missing | raw.refused.keys() == {"cus_NoSuchCustomer", "cus_ABC 123"}


def test_both_paths_read_the_same_events(account) -> None:
    _standin, c, _ids = account
    since = datetime(2000, 1, 1, tzinfo=UTC)  # types[] and created[gte] both encoded
    raw, sdk = (StripeSource(c, raw=r).changes(since) for r in PATHS.values())
    assert raw == sdk and raw.hints


class Recording(stripe.RequestsClient):
    """stripe-python's own HTTP client, noting each request as it goes out."""

    def __init__(self) -> None:
        super().__init__(timeout=30)
        self.sent: list[tuple[str, str, str | None, str | None]] = []

    def note(self, method: str, url: str, headers: Any) -> None:
        headers = headers or {}
        self.sent.append((method, url, headers.get("Stripe-Version"), headers.get("Authorization")))

    def request(self, method: str, url: str, headers: Any, post_data: Any = None) -> Any:
        self.note(method, url, headers)
        return super().request(method, url, headers, post_data)

    def request_stream(self, method: str, url: str, headers: Any, post_data: Any = None) -> Any:
        self.note(method, url, headers)  # the raw path streams its replies
        return super().request_stream(method, url, headers, post_data)


def test_both_paths_send_the_same_urls_and_headers(account) -> None:
    standin, _c, ids = account
    sent = []
    for raw in PATHS.values():
        http = Recording()
        c = stripe.StripeClient(standin.api_key, base_addresses={"api": standin.base_url},
                                http_client=http)  # fmt: skip
        source = StripeSource(c, raw=raw, sleep=_no_sleep)
        source.fetch(ids[:2] + ids[-8:])
        source.fetch(ids)
        source.changes(datetime(2000, 1, 1, tzinfo=UTC))
        sent.append(http.sent)
    # The exact query strings (order too), the pinned version and the key, request by request.
    assert sent[0] == sent[1]
    assert {version for _m, _u, version, _a in sent[0]} == {"2026-10-28.endive"}
    urls = " ".join(url for _m, url, _v, _a in sent[0])
    for encoded in ("expand[0]=data.discounts", "created[gte]=", "types[19]=", "ids[0]=",
                    "starting_after="):  # fmt: skip
        assert encoded in urls, encoded


# -- errors ----------------------------------------------------------------------------------
def test_stripe_errors_are_the_sdks_own_exceptions(account) -> None:
    standin, c, _ids = account
    reader = RawReader(c)
    with pytest.raises(stripe.InvalidRequestError) as missing:
        reader.get("/v1/customers/cus_NoSuchCustomer", {})
    assert (missing.value.code, missing.value.http_status) == ("resource_missing", 404)
    with pytest.raises(stripe.InvalidRequestError) as unknown:
        reader.get("/v1/subscriptions", {"no_such_param": "x"})
    assert unknown.value.code == "parameter_unknown"
    bad_key = stripe.StripeClient("sk_test_wrong", base_addresses={"api": standin.base_url})
    with pytest.raises(stripe.AuthenticationError):
        RawReader(bad_key).get("/v1/customers", {})
    for raw in PATHS.values():
        with pytest.raises(StopCycle) as stopped:
            StripeSource(bad_key, raw=raw, sleep=_no_sleep).fetch(["cus_1"])
        assert "STRIPE_API_KEY" in str(stopped.value)


class _Proxy(BaseHTTPRequestHandler):
    """A proxy's HTML page, with the status the test asks for in the path."""

    def do_GET(self) -> None:
        status = 502 if "/v1/customers/" in self.path else 200
        body = b"<html><body>Bad gateway</body></html>"
        self.send_response(status)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def proxy() -> Iterator[str]:
    with serve(_Proxy) as url:
        yield url


def test_an_html_reply_is_retry_later(proxy: str) -> None:
    c = stripe.StripeClient("sk_test_x", base_addresses={"api": proxy}, max_network_retries=0)
    # 200 with HTML: the table's shape-error catch-all; a 502 page: the SDK's APIError.
    with pytest.raises(RetryLater) as listed:
        StripeSource(c, sleep=_no_sleep).fetch(["cus_1"])
    assert listed.value.code == "UNEXPECTED_RESPONSE"
    with pytest.raises(RetryLater) as retrieved:
        StripeSource(c, sleep=_no_sleep)._retrieve("customers", "cus_1")
    assert retrieved.value.http_status == 502
    with pytest.raises(RetryLater):
        StripeSource(c, raw=False, sleep=_no_sleep).fetch(["cus_1"])


class _Edge(BaseHTTPRequestHandler):
    """Stripe's list reply as real Stripe sends it (gzipped), or a reply cut short."""

    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        body = b'{"object": "list", "data": [], "has_more": false, "url": "/v1/subscriptions"}'
        if self.path.startswith("/a-list/"):  # valid JSON, but not the object Stripe sends
            body = b'["not", "an", "object"]'
        if self.path.startswith("/no-items/"):  # a subscription without its items
            body = (b'{"object": "list", "has_more": false, "data": [{"id": "sub_1", '
                    b'"object": "subscription", "customer": "cus_1", "status": "active"}]}')
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        if "gzip" in self.headers.get("Accept-Encoding", "") and "cut" not in self.path:
            body = gzip.compress(body)
            self.send_header("Content-Encoding", "gzip")
        self.send_header("Content-Length", str(len(body) + (500 if "cut" in self.path else 0)))
        # Never kept alive: a pooled connection this server has closed would fail the next
        # request before its reply, not in the middle of it.
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)
        self.wfile.flush()
        self.close_connection = True

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def edge() -> Iterator[str]:
    with serve(_Edge) as url:
        yield url


def test_a_gzipped_reply_is_read_and_a_reply_cut_short_is_retry_later(edge: str) -> None:
    c = stripe.StripeClient("sk_test_x", base_addresses={"api": edge}, max_network_retries=0)
    assert RawReader(c).get("/v1/subscriptions", {"limit": 1})["data"] == []
    with pytest.raises(stripe.APIConnectionError, match="could not be read"):
        RawReader(c).get("/v1/subscriptions/cut", {})
    with pytest.raises(RetryLater) as cut:
        StripeSource(c, sleep=_no_sleep)._retrieve("subscriptions", "cut")
    assert "could not be read" in str(cut.value)


def test_reply_bodies_stay_out_of_stripes_debug_log(account, caplog) -> None:
    _standin, c, ids = account
    caplog.set_level(logging.DEBUG, logger="stripe")
    snap = StripeSource(c, sleep=_no_sleep).fetch(ids[:3])
    assert snap.customers and any("Stripe API response" in r.getMessage() for r in caplog.records)
    logged = " ".join(r.getMessage() for r in caplog.records)
    subs = [sub.id for cus in snap.customers.values() for sub in cus.subscriptions]
    assert subs and not any(sub in logged for sub in subs)


def test_a_json_reply_that_is_no_object_is_a_shape_error(edge: str) -> None:
    # A subscription page goes through the typed decoder (shapes), a customer through the
    # reader's parser: both end in the same shape error.
    c = stripe.StripeClient("sk_test_x", base_addresses={"api": f"{edge}/a-list"},
                            max_network_retries=0)  # fmt: skip
    source = StripeSource(c, sleep=_no_sleep)
    with pytest.raises(RetryLater) as listed:
        source.fetch(["cus_1"])
    assert listed.value.code == "UNEXPECTED_RESPONSE" and "JSON list" in str(listed.value)
    with pytest.raises(RetryLater) as retrieved:
        source._retrieve("customers", "cus_1")
    assert retrieved.value.code == "UNEXPECTED_RESPONSE" and "JSON list" in str(retrieved.value)


def test_without_the_requestor_seam_the_public_raw_request_is_used(account) -> None:
    _standin, c, ids = account
    reader = RawReader(c)
    reader._requestor = None
    page = reader.get("/v1/subscriptions", {"status": "all", "limit": 3,
                                            "expand": ["data.discounts"]})  # fmt: skip
    assert page["object"] == "list" and len(page["data"]) == 3
    source = StripeSource(c, sleep=_no_sleep)
    source.raw = reader
    sdk = StripeSource(c, raw=False, sleep=_no_sleep)
    assert source.fetch(ids[:4]) == sdk.fetch(ids[:4])


@pytest.mark.parametrize("path", ["/v1/customers/cus_NoSuchCustomer", "/v1/subscriptions"])
def test_a_refused_request_is_the_same_skip_record_on_both_paths(account, path: str) -> None:
    _standin, c, _ids = account
    params = {"no_such_param": "x"} if path == "/v1/subscriptions" else {}

    def sdk() -> Any:
        if path == "/v1/subscriptions":
            return c.v1.subscriptions.list(params=params)  # type: ignore[arg-type]
        return c.v1.customers.retrieve("cus_NoSuchCustomer")

    failures = []
    for raw in PATHS.values():
        source = StripeSource(c, raw=raw, sleep=_no_sleep)
        with pytest.raises(SkipRecord) as refused:
            source._get("GET", path, params, sdk)
        failures.append((str(refused.value), refused.value.code, refused.value.http_status))
    assert failures[0] == failures[1]


def test_the_raw_parser_falls_back_to_json_where_orjson_is_stricter() -> None:
    """orjson refuses a lone surrogate escape, valid JSON that Stripe could send in a
    customer's name: the page is read all the same. Stripe's integers (amounts, timestamps)
    are 64-bit, which orjson reads exactly."""
    from sync.stripe_io.raw import parse

    assert parse(b'{"name": "Ann \\ud800", "n": 1}') == {"name": "Ann \ud800", "n": 1}
    assert parse(b'{"n": 9223372036854775807, "m": -5}') == {"n": 2**63 - 1, "m": -5}
    assert parse('{"a": [1.5, null, true]}') == {"a": [1.5, None, True]}
    with pytest.raises(ValueError):
        parse(b"<html>proxy error</html>")


def test_a_listed_subscription_of_another_shape_is_a_shape_error(edge: str) -> None:
    c = stripe.StripeClient("sk_test_x", base_addresses={"api": f"{edge}/no-items"},
                            max_network_retries=0)  # fmt: skip
    with pytest.raises(RetryLater) as listed:
        StripeSource(c, sleep=_no_sleep).fetch(["cus_1"])
    assert listed.value.code == "UNEXPECTED_RESPONSE" and "items" in str(listed.value)
