"""A strict local stand-in for one Chargebee site's API v2 (Product Catalog 2.0).

Serves ``/api/v2/...`` on 127.0.0.1 with HTTP Basic auth (API key as username, empty password):
item families, items, item prices (flat_fee, per_unit, tiered, volume, stairstep), coupons,
customers, subscriptions with items (create, change, cancel, reactivate, pause, resume, remove a
scheduled cancellation, delete), invoices, events and the Time Machine. A clock drives renewals,
trial ends, scheduled cancellations, pauses, resumptions, ``future`` starts and failed payments.
Errors use Chargebee's envelope; unknown parameters and filter operators are refused, never
ignored, because a stand-in more lenient than the service hides bugs.

Pointing chargebee-python 3.x at it. The SDK builds its URL as
``{protocol}://{site}.{chargebee_domain}/api/v2`` once, in ``Chargebee(...)``, and stores it as
``client.env.api_endpoint``; ``{site}.localhost`` does not resolve here, so set the endpoint
afterwards. The SDK also picks https whenever the *class* attribute
``Chargebee.verify_ca_certs`` is true (``protocol="http"`` only clears it on the instance), so
that class attribute must be cleared too — process-wide, so tests should restore it
(``monkeypatch.setattr``)::

    chargebee.Chargebee.verify_ca_certs = False
    cb = chargebee.Chargebee(api_key=standin.api_key, site=standin.site, protocol="http")
    cb.env.api_endpoint = standin.api_base        # "http://127.0.0.1:PORT/api/v2"

``standin.sdk_client()`` does the last two steps. The engine never imports this package.
"""

from .server import TEST_SITE_RATE_LIMIT, ChargebeeStandIn, serve_forever

__all__ = ["TEST_SITE_RATE_LIMIT", "ChargebeeStandIn", "serve_forever"]
