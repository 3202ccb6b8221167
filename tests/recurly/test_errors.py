"""The Recurly error table: each SDK error class lands on its action and category, and the
catch-alls leave nothing untranslated."""

from __future__ import annotations

import pytest
import recurly
import recurly.errors as rerr

from metadata.schema import Category
from sync.errors import RetryLater, SkipRecord, StopCycle
from sync.recurly_io import errors

CASES = [
    (rerr.RateLimitedError, RetryLater, Category.STRIPE),
    (rerr.UnauthorizedError, StopCycle, Category.CONFIGURATION),
    (rerr.InvalidApiKeyError, StopCycle, Category.CONFIGURATION),
    (rerr.InvalidPermissionsError, StopCycle, Category.CONFIGURATION),
    (rerr.InvalidApiVersionError, StopCycle, Category.CONFIGURATION),
    (rerr.SimultaneousRequestError, RetryLater, Category.STRIPE),
    (rerr.NotFoundError, SkipRecord, Category.STRIPE),
    (rerr.BadRequestError, SkipRecord, Category.STRIPE),
    (rerr.ValidationError, SkipRecord, Category.STRIPE),
    (rerr.InternalServerError, RetryLater, Category.STRIPE),
    (rerr.ServiceUnavailableError, RetryLater, Category.STRIPE),
    (recurly.ApiError, RetryLater, Category.STRIPE),  # a type with no class / empty body
]


@pytest.mark.parametrize(("cls", "action", "category"), CASES)
def test_error_table(cls: type, action: type, category: Category) -> None:
    failure = errors.translate(cls("boom. Recurly Request Id: r1", None))
    assert type(failure) is action and failure.category == category
    assert "boom" in failure.message


def test_network_errors_and_call() -> None:
    failure = errors.translate(recurly.NetworkError(TimeoutError("timed out")))
    assert isinstance(failure, RetryLater)

    def boom() -> None:
        raise rerr.NotFoundError("Couldn't find Account with code = x", None)

    with pytest.raises(SkipRecord):
        errors.call(boom)
    # the last row is the SDK's root class: nothing recurly raises escapes untranslated
    assert errors.TABLE[-1].exception is recurly.RecurlyError
