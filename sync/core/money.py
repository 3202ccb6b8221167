"""Currency exponents and the conversion from a provider's minor units to Salesforce money.

Providers report amounts in the currency's minor unit (cents, fils, or whole yen); Salesforce
shows major units. Rounding rule, decided once: every amount we write is rounded half-even to
``MONEY_PLACES`` (2) places, whatever the currency's own exponent. The MRR fields are
Currency(16,2): a three-decimal amount such as 12.345 BHD would be rounded by Salesforce on save
and read back as 12.35, so the diff would see a change every cycle. Rounding ourselves, to the
field's scale, keeps what we write equal to what Salesforce stores. Zero-decimal currencies keep
their cents too: ¥10,000 a year is ¥833.33 a month, not ¥833.
"""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal

__all__ = [
    "MONEY_PLACES",
    "THREE_DECIMAL_CURRENCIES",
    "ZERO_DECIMAL_CURRENCIES",
    "currency_exponent",
    "round_money",
    "to_major",
]

MONEY_PLACES = 2

ZERO_DECIMAL_CURRENCIES = frozenset(
    "BIF CLP DJF GNF JPY KMF KRW MGA PYG RWF UGX VND VUV XAF XOF XPF".split()
)
THREE_DECIMAL_CURRENCIES = frozenset("BHD JOD KWD OMR TND".split())


def currency_exponent(currency: str) -> int:
    """Number of decimal places of ``currency``'s minor unit (ISO code, any case)."""
    known = _exponents.get(currency)
    if known is not None:
        return known
    exponent = _exponent(currency)
    if len(_exponents) < _EXPONENTS_KEPT:
        _exponents[currency] = exponent
    return exponent


def _exponent(currency: str) -> int:
    code = currency.strip().upper()
    if len(code) != 3 or not code.isalpha():
        raise ValueError(f"not an ISO 4217 currency code: {currency!r}")
    if code in ZERO_DECIMAL_CURRENCIES:
        return 0
    if code in THREE_DECIMAL_CURRENCIES:
        return 3
    return 2


# Every amount of a cycle asks for the exponent of one of a few currency strings.
_EXPONENTS_KEPT = 1024
_exponents: dict[str, int] = {}


def to_major(amount_minor: Decimal, currency: str) -> Decimal:
    """Minor units to major units, exactly (no rounding): 1999 USD -> 19.99, 1999 JPY -> 1999."""
    return Decimal(amount_minor).scaleb(-currency_exponent(currency))


def round_money(amount: Decimal, places: int = MONEY_PLACES) -> Decimal:
    """Round half-even to ``places`` (banker's rounding, so ties do not drift upwards)."""
    quantum = _QUANTUM if places == MONEY_PLACES else Decimal(1).scaleb(-places)
    return Decimal(amount).quantize(quantum, rounding=ROUND_HALF_EVEN)


_QUANTUM = Decimal(1).scaleb(-MONEY_PLACES)
