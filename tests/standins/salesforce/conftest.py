from __future__ import annotations

import pytest
from sf_support import billing_change
from simple_salesforce import Salesforce

from standins.salesforce import SalesforceStandIn


@pytest.fixture
def standin(tmp_path):
    with SalesforceStandIn(tmp_path / "sf") as standin:
        yield standin


@pytest.fixture
def sf(standin) -> Salesforce:
    return Salesforce(instance_url=standin.instance_url, session_id=standin.issue_token(),
                      version="66.0", session=standin.session())


@pytest.fixture
def billing(standin):
    """The billing package deployed and the integration permission set assigned."""
    standin.org.apply_metadata(billing_change())
    standin.org.assign_permission_set(standin.username, "Billing_Sync_Integration")
    return standin
