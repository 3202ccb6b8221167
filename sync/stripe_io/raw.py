"""Stripe's GET replies as plain dicts, without building StripeObjects.

stripe-python spends most of a page's client CPU turning the JSON into StripeObjects, which the
reader turns straight back into dicts. This reads the same requests as JSON instead, through
stripe-python's own requestor, so its API key, pinned ``Stripe-Version``, telemetry headers,
network retries and parameter encoding (``expand[0]``, ``created[gte]``) are the SDK's, byte
for byte: the recorded cassettes match either path.

The requestor is stripe-python's one private seam we use (``_requestor.request_raw``): the
public ``StripeClient.raw_request`` always parses the body itself, into OrderedDicts, which
costs about as much CPU as the rest of the request (4 ms a page of 100, tests/bench_stripe_raw).
stripe is pinned to one major version, the contract test drives this path against the
cassettes and the stand-in, and a client without the seam falls back to ``raw_request``.

The parser is orjson (a page of 100 subscriptions in about half the time of ``json``, the
largest CPU cost left on this path), with the standard library behind it: orjson refuses JSON
that ``json`` accepts (a lone surrogate escape in a customer's name), and such a page is
parsed again by ``json`` rather than stopping the listing. (orjson reads integers beyond 64
bits as floats; Stripe's integers, amounts and timestamps, are 64-bit.)
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from typing import Any

import orjson
import requests
import stripe
import urllib3

__all__ = ["RawReader"]

log = logging.getLogger(__name__)

Loads = Callable[[bytes | str], Any]
# What stripe-python's telemetry reports for these calls, as it does for raw_request.
USAGE = ["raw_request"]


class RawReader:
    """GET ``path`` with ``params`` and return the reply's JSON object.

    Stripe's error replies raise the same ``stripe.StripeError`` subclasses as the SDK's
    services (the SDK's own interpreter builds them); a success reply that is not a JSON
    object (a proxy's HTML page) raises ``ValueError``, a shape error to the error table.
    """

    def __init__(
        self,
        client: stripe.StripeClient,
        loads: Loads | None = None,
        subscription_pages: Loads | None = None,
    ) -> None:
        """``loads``: the parser of replies; ``subscription_pages``: of subscription list
        pages, each subscription as ``convert.slim`` makes it (default ``shapes.slim_page``)."""
        self.client = client
        self.loads: Loads = loads or parse
        self.subscription_pages = subscription_pages
        requestor = getattr(client, "_requestor", None)
        self._requestor = requestor if callable(getattr(requestor, "request_raw", None)) else None
        if self._requestor is None:
            log.warning("stripe-python has no _requestor.request_raw: reading via raw_request")

    def get(
        self, path: str, params: Mapping[str, Any], loads: Loads | None = None
    ) -> dict[str, Any]:
        """``loads``: this reply's parser, instead of the reader's."""
        if self._requestor is None:
            return _object(self.client.raw_request("get", path, **params).data)
        # Streamed: the requestor logs the reply's body (at debug, formatted whatever the
        # level: 4% of an unchanged cycle's CPU); a stream it logs as its repr.
        reply, status, headers = self._requestor.request_raw(
            "get", path, params, is_streaming=True,
            base_address="api", api_mode="V1", usage=USAGE,
        )  # fmt: skip
        body = _read(reply)
        if not 200 <= status < 300:
            # The SDK's interpreter raises its own exception for this status and error body,
            # the one its services raise; it never returns for a status outside 2xx.
            self._requestor._interpret_response(body, status, headers, "V1")
            raise stripe.APIError(f"stripe-python accepted HTTP {status}", http_status=status)
        return _object((loads or self.loads)(body))


def _read(reply: Any) -> bytes | str:
    """The whole body of a streamed reply: urllib3's response under stripe's RequestsClient,
    a file-like stream under its other HTTP clients.

    The SDK reads a body inside its own error handling; a stream is read here, so a body cut
    short becomes the ``APIConnectionError`` the SDK raises for a failed read."""
    try:
        if isinstance(reply, urllib3.BaseHTTPResponse):
            try:
                body = reply.read(decode_content=True)  # gzip, as Stripe sends it
            finally:
                reply.release_conn()
        else:
            body = reply.read()
    except (OSError, requests.RequestException, urllib3.exceptions.HTTPError) as exc:
        why = f"the reply's body could not be read ({type(exc).__name__})"
        raise stripe.APIConnectionError(why) from None  # type: ignore[no-untyped-call]  # SDK
    if not isinstance(body, bytes | str):
        raise TypeError(f"stripe-python returned a {type(body).__name__} body")
    return body


def parse(body: bytes | str) -> Any:
    """orjson where it can, ``json`` where orjson is stricter than JSON as Stripe sends it."""
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError:
        return json.loads(body)


def _object(data: Any) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise ValueError(f"Stripe replied with a JSON {type(data).__name__}, not an object")
    return data
