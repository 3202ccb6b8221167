"""A local stand-in for the Stripe API, for tests, the demo and ``billing-sync emulator``.

Speaks the API version stripe-python 16 pins (2026-10-28.endive) over HTTP on 127.0.0.1:
customers, products, prices, coupons and discounts, subscriptions, invoices (minimal), events,
payment methods (the ``pm_card_visa`` and ``pm_card_chargeCustomerFail`` test cards) and test
clocks that drive renewals, failed payments, retries, trials and scheduled cancellations.
Anything it does not implement is refused with Stripe's own error, never silently accepted.

Events (eventlog.py) are kept 30 days by the stand-in's wall clock, render their payload in
the account's default API version (``set_default_api_version``; HTTP ``POST
/_standin/default_api_version``) and can be made to show up late in lists
(``delay_next_events`` / ``release_late_events``), as Stripe's eventually consistent list can.

The engine never imports this package.
"""

from .server import StripeStandIn, serve_forever

__all__ = ["StripeStandIn", "serve_forever"]
