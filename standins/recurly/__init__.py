"""A strict, stateful local stand-in for the Recurly API v2021-02-25 (recurly-python 4.x).

Accounts (by id or ``code-<code>``), plans with add-ons, coupons and redemptions,
subscriptions through every state, and the invoices behind ``has_past_due_invoice``; lists
paged with Recurly's cursors; HTTP Basic auth with the API key as username; the
``Accept: application/vnd.recurly.v2021-02-25`` header (``+json`` too) required, otherwise 406
``invalid_api_version``; Recurly's error envelope and ``X-Request-Id``/``X-RateLimit-*`` headers
on every answer. A clock drives renewals, trials, expiries, pauses and future starts. Anything
it does not implement is refused with a Recurly error, never silently accepted.

Pointing the recurly SDK at it: recurly 4.x has no base-URL option. ``recurly.Client`` takes
only ``region`` ("us"/"eu") and opens ``http.client.HTTPSConnection(host, 443)`` itself, and it
sends request paths relative to that connection. The only way in is replacing the client's
private connection before the first request, which ``RecurlyStandIn.sdk_client()`` does::

    client = recurly.Client(api_key)
    client._BaseClient__conn = http.client.HTTPConnection("127.0.0.1", port)

It relies on a name-mangled private attribute: fine for tests, and the contract tests fail
loudly if an SDK release renames it. Production code must not do this.

The engine never imports this package.
"""

from .server import RecurlyStandIn, serve_forever

__all__ = ["RecurlyStandIn", "serve_forever"]
