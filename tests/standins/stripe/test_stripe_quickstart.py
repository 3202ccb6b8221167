"""The walk-through a new user does first, with stripe-python 16 against the stand-in."""

from __future__ import annotations

from decimal import Decimal

import stripe

from standins.stripe import StripeStandIn


def test_new_user_walkthrough_with_stripe_python() -> None:
    with StripeStandIn(api_key="sk_test_fake_quickstart") as standin:
        assert standin.base_url.startswith("http://127.0.0.1:")
        client = stripe.StripeClient(standin.api_key, base_addresses={"api": standin.base_url})
        product = client.v1.products.create({"name": "Pro plan"})
        monthly = client.v1.prices.create({
            "product": product.id, "currency": "usd", "unit_amount": 1500,
            "recurring": {"interval": "month"},
        })  # fmt: skip
        yearly = client.v1.prices.create({
            "product": product.id, "currency": "usd", "unit_amount": 15000,
            "recurring": {"interval": "year"},
        })  # fmt: skip
        customer = client.v1.customers.create({
            "email": "ada@example.test", "payment_method": "pm_card_visa",
            "invoice_settings": {"default_payment_method": "pm_card_visa"},
        })  # fmt: skip
        sub = client.v1.subscriptions.create({
            "customer": customer.id, "items": [{"price": monthly.id, "quantity": 3}],
        })  # fmt: skip

        assert product.id.startswith("prod_") and monthly.id.startswith("price_")
        assert customer.id.startswith("cus_") and sub.id.startswith("sub_")
        assert customer.livemode is False and customer.object == "customer"
        assert customer.invoice_settings.default_payment_method.startswith("pm_")
        assert sub.status == "active" and sub.object == "subscription"
        item = sub["items"].data[0]
        assert item.id.startswith("si_") and item.price.id == monthly.id
        assert item.quantity == 3 and item.price.unit_amount_decimal == Decimal("1500")
        # Since 2025-03-31.basil periods live on the item, not the subscription.
        assert "current_period_end" not in sub
        assert item.current_period_end > item.current_period_start
        invoice = client.v1.invoices.retrieve(sub.latest_invoice)
        assert invoice.amount_due == 4500 and invoice.status == "paid"
        assert invoice.parent.subscription_details.subscription == sub.id

        upgraded = client.v1.subscriptions.update(
            sub.id, {"items": [{"id": item.id, "price": yearly.id}]}
        )
        new_item = upgraded["items"].data[0]
        assert new_item.id == item.id and new_item.price.id == yearly.id
        assert new_item.price.recurring.interval == "year"
        assert new_item.current_period_end - new_item.current_period_start >= 365 * 86_400

        client.v1.subscriptions.cancel(sub.id)
        default_list = client.v1.subscriptions.list({"customer": customer.id})
        assert default_list.data == []  # canceled ones are left out without status
        everything = client.v1.subscriptions.list({"status": "all"})
        assert [s.id for s in everything.data] == [sub.id]
        assert everything.data[0].status == "canceled"
        assert everything.url == "/v1/subscriptions" and everything.has_more is False
