"""Monthly recurring revenue: what a customer is committed to pay per month.

The rules: only subscriptions in the neutral state ``active`` (scheduled-to-cancel
included, until it ends) and ``past_due`` count; per item with a recurring *licensed* price
(metered prices are left out), per-unit ``unit x quantity`` (after ``transform_quantity``),
volume tiers ``unit x quantity + flat`` of the tier holding the quantity, graduated tiers
summed tier by tier; normalised to a month (year / 12, week x 52/12, day x 365/12, each /
interval count); only coupons with ``duration=forever`` reduce it. Taxes are not MRR.

All arithmetic is Decimal in the currency's minor unit until the very end, where the monthly
amount becomes major units rounded half-even to 2 places (see ``money``).

Decisions the design leaves open, taken here:
- Several discounts on one level apply one after the other, in the order the provider lists
  them, each on what the previous left (percent-off compounds); the amount never goes below 0.
- An ``amount_off`` coupon in another currency than the subscription's does not apply (Stripe
  would not apply it either). One without a currency is taken to be in the subscription's.
- A subscription-level ``amount_off`` is spread over the interval of the subscription's most
  valuable item (all items share one interval except in flexible-billing subscriptions).
- Tiered prices: the first tier is always reached, so its flat amount is charged even at
  quantity 0 (Stripe bills a first-tier flat fee as a base fee).
- The Account MRR is the sum of the subscriptions' rounded MRRs, so it always equals the sum
  of the MRR column of the Account's Subscriptions related list.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal, localcontext

from sync.core.money import round_money, to_major
from sync.core.status import is_live
from sync.model import Coupon, Customer, Item, Price, Subscription, Tier

__all__ = [
    "COUNTED_STATUSES",
    "CustomerMrr",
    "billed_quantity",
    "customer_mrr",
    "item_interval_amount",
    "item_monthly_amount",
    "monthly_value",
    "primary_item",
    "rollup_mrr",
    "subscription_mrr",
    "to_monthly",
]

COUNTED_STATUSES = frozenset({"active", "past_due"})
_ZERO = Decimal(0)
_NO_MRR = round_money(_ZERO)
# Enough digits that dividing by 12 * count and multiplying by 52 or 365 loses nothing that
# survives rounding to cents, however large the amount.
_PRECISION = 50


def billed_quantity(item: Item) -> Decimal:
    """The quantity the price multiplies: ``transform_quantity`` applied when there is one."""
    quantity = Decimal(item.quantity)
    price = item.price
    if not price.transform_divide_by:
        return quantity
    rounding = {"up": ROUND_CEILING, "down": ROUND_FLOOR}.get(price.transform_round or "")
    if rounding is None:
        raise ValueError(
            f"price {price.id}: transform_quantity round must be 'up' or 'down', "
            f"not {price.transform_round!r}"
        )
    return (quantity / Decimal(price.transform_divide_by)).to_integral_value(rounding=rounding)


def _volume_amount(price: Price, quantity: Decimal) -> Decimal:
    for tier in _sorted_tiers(price):
        if tier.up_to is None or quantity <= tier.up_to:
            return (tier.unit_amount or _ZERO) * quantity + (tier.flat_amount or _ZERO)
    raise ValueError(f"price {price.id}: no tier holds quantity {quantity}")


def _graduated_amount(price: Price, quantity: Decimal) -> Decimal:
    total = _ZERO
    lower = _ZERO  # units already covered by the previous tiers
    for index, tier in enumerate(_sorted_tiers(price)):
        if index > 0 and quantity <= lower:
            break
        upper = quantity if tier.up_to is None else min(quantity, Decimal(tier.up_to))
        units = max(upper - lower, _ZERO)
        total += (tier.unit_amount or _ZERO) * units + (tier.flat_amount or _ZERO)
        if tier.up_to is None:
            break
        lower = Decimal(tier.up_to)
    return total


def _sorted_tiers(price: Price) -> list[Tier]:
    if not price.tiers:
        raise ValueError(f"price {price.id} is tiered but carries no tiers (expand them)")
    # Providers list tiers in order; sorting makes a careless adapter harmless.
    return sorted(price.tiers, key=lambda t: (t.up_to is None, t.up_to or 0))


def item_interval_amount(item: Item) -> Decimal:
    """What one billing interval of ``item`` costs, in minor units, before discounts.

    Metered prices are 0: MRR says what is committed, not what was used.
    """
    price = item.price
    if price.usage_type == "metered" or not price.interval:
        return _ZERO
    with localcontext() as ctx:
        ctx.prec = _PRECISION
        quantity = billed_quantity(item)
        if price.billing_scheme == "tiered":
            if price.tiers_mode == "volume":
                amount = _volume_amount(price, quantity)
            elif price.tiers_mode == "graduated":
                amount = _graduated_amount(price, quantity)
            else:
                raise ValueError(f"price {price.id}: unknown tiers_mode {price.tiers_mode!r}")
        elif price.billing_scheme == "per_unit":
            amount = (price.unit_amount or _ZERO) * quantity
        else:
            raise ValueError(f"price {price.id}: unknown billing_scheme {price.billing_scheme!r}")
    return max(amount, _ZERO)


def to_monthly(amount: Decimal, interval: str, interval_count: int = 1) -> Decimal:
    """Normalise an amount billed every ``interval_count`` ``interval`` to one month."""
    if interval_count < 1:
        raise ValueError(f"interval_count must be at least 1, not {interval_count}")
    count = Decimal(interval_count)
    with localcontext() as ctx:
        ctx.prec = _PRECISION
        # One division per case: the inexact step happens once, at 50 digits.
        if interval == "month":
            return amount / count
        if interval == "year":
            return amount / (12 * count)
        if interval == "week":
            return amount * 52 / (12 * count)
        if interval == "day":
            return amount * 365 / (12 * count)
    raise ValueError(f"unknown billing interval {interval!r}")


def _forever(coupons: Iterable[Coupon]) -> list[Coupon]:
    return [c for c in coupons if c.duration == "forever"]


def _discount(
    amount: Decimal, coupons: Iterable[Coupon], currency: str, amount_off_scale: Decimal
) -> Decimal:
    """Apply forever coupons in order; ``amount_off_scale`` turns an amount_off into the
    unit ``amount`` is in (1 for one interval, 1/months for a monthly amount)."""
    with localcontext() as ctx:
        ctx.prec = _PRECISION
        for coupon in _forever(coupons):
            if coupon.percent_off is not None:
                amount = amount * (100 - Decimal(coupon.percent_off)) / 100
            elif coupon.amount_off is not None:
                if coupon.currency and coupon.currency.lower() != currency.lower():
                    continue
                amount = amount - Decimal(coupon.amount_off) * amount_off_scale
            amount = max(amount, _ZERO)
    return amount


def item_monthly_amount(item: Item, currency: str) -> Decimal:
    """One item's monthly amount in minor units, its own forever discounts applied.

    Mapping one subscription ranks its items for the plan name, its primary item, its
    monthly value and the Account's plan order: each asks for every item's amount. The amount
    depends only on the price, quantity and discounts, all frozen, and an adapter shares one
    Price object between the subscriptions on that price: so it is remembered per price object
    (by identity: hashing a price would hash its tiers) and quantity, and computed once for
    all the items alike.
    """
    price = item.price
    key = (id(price), item.quantity, currency)
    entry = _amounts.get(key)
    # The entry holds the price itself, so its id cannot have been reused by another object.
    if entry is not None and entry[0] is price and entry[1] == item.discounts:
        return entry[2]
    amount = _item_monthly_amount(item, currency)
    if len(_amounts) >= _AMOUNTS_KEPT:
        # Bounded: the prices of the customers mapped last are all that is asked again soon.
        _amounts.clear()
    _amounts[key] = (price, item.discounts, amount)
    return amount


def _item_monthly_amount(item: Item, currency: str) -> Decimal:
    interval_amount = _discount(item_interval_amount(item), item.discounts, currency, Decimal(1))
    if interval_amount == _ZERO:
        return _ZERO
    return to_monthly(interval_amount, item.price.interval, item.price.interval_count)


# (id(price), quantity, currency) -> (price, discounts, amount). A few thousand entries: a
# catalog's prices times the quantities bought, or one customer's items ranked several times.
_AMOUNTS_KEPT = 4096
_amounts: dict[tuple[int, int, str], tuple[Price, tuple[Coupon, ...], Decimal]] = {}


def primary_item(subscription: Subscription) -> Item | None:
    """The most valuable licensed item (the first on a tie), else the first item."""
    if len(subscription.items) == 1:
        # Most subscriptions: nothing to rank. The amount is asked for all the same, so an
        # item that cannot be valued fails here as it does among several.
        only = subscription.items[0]
        if only.price.usage_type != "metered":
            item_monthly_amount(only, subscription.currency)
        return only
    licensed = [i for i in subscription.items if i.price.usage_type != "metered"]
    if not licensed:
        return subscription.items[0] if subscription.items else None
    return max(
        licensed,
        key=lambda i: item_monthly_amount(i, subscription.currency),
        default=None,
    )


def monthly_value(subscription: Subscription) -> Decimal:
    """Monthly amount in minor units with forever discounts, whatever the status.

    This is the subscription's worth when it bills: MRR for counted statuses, and the order
    "most valuable first" for plan names (a trialing Enterprise plan outranks a Basic one).
    """
    currency = subscription.currency
    subtotal = _ZERO  # added up in order, as sum(..., start=_ZERO) would
    for item in subscription.items:
        subtotal += item_monthly_amount(item, currency)
    coupons = _forever(subscription.discounts) if subscription.discounts else None
    if not coupons or subtotal == _ZERO:
        return subtotal
    main = primary_item(subscription)
    if main is None or not main.price.interval:
        return subtotal
    # An amount_off is taken off once per billing interval: its monthly share.
    per_month = to_monthly(Decimal(1), main.price.interval, main.price.interval_count)
    return _discount(subtotal, coupons, currency, per_month)


def subscription_mrr(subscription: Subscription) -> Decimal:
    """MRR in major units, rounded half-even to 2 places; 0.00 unless active or past_due."""
    if subscription.state not in COUNTED_STATUSES:
        return _NO_MRR
    return round_money(to_major(monthly_value(subscription), subscription.currency))


@dataclass(frozen=True)
class CustomerMrr:
    """A customer's MRR rollup.

    ``amount`` is None (and ``mixed_currency`` true) when the live subscriptions use more than
    one currency: the engine leaves MRR__c empty and records a Validation error. With no live
    subscription the amount is 0.00 and the currency None.
    """

    amount: Decimal | None
    currency: str | None  # ISO code, upper case
    currencies: tuple[str, ...] = ()  # of the live subscriptions, upper case, sorted
    by_subscription: Mapping[str, Decimal] = field(default_factory=dict)

    @property
    def mixed_currency(self) -> bool:
        return len(self.currencies) > 1


def customer_mrr(customer: Customer | None) -> CustomerMrr:
    if customer is None or customer.deleted:
        return CustomerMrr(amount=_NO_MRR, currency=None)
    return rollup_mrr(customer, [subscription_mrr(s) for s in customer.subscriptions])


def rollup_mrr(customer: Customer, mrrs: Iterable[Decimal]) -> CustomerMrr:
    """``customer_mrr`` of a customer that is not deleted, from its subscriptions' own MRRs
    (``subscription_mrr``, in the customer's order) when the caller has them already."""
    by_subscription = {s.id: m for s, m in zip(customer.subscriptions, mrrs, strict=True)}
    currencies = tuple(sorted({s.currency.upper() for s in customer.subscriptions if is_live(s)}))
    if len(currencies) > 1:
        return CustomerMrr(None, None, currencies, by_subscription)
    total = sum(by_subscription.values(), start=_NO_MRR)
    return CustomerMrr(total, currencies[0] if currencies else None, currencies, by_subscription)
