from __future__ import annotations

import pytest
from sf_support import billing_change
from simple_salesforce import Salesforce

from sync.emulators.salesforce import SalesforceEmulator


@pytest.fixture
def emu(tmp_path):
    with SalesforceEmulator(tmp_path / "sf") as emulator:
        yield emulator


@pytest.fixture
def sf(emu) -> Salesforce:
    return Salesforce(instance_url=emu.instance_url, session_id=emu.issue_token(),
                      version="66.0", session=emu.session())


@pytest.fixture
def billing(emu):
    """The billing package deployed and the integration permission set assigned."""
    emu.org.apply_metadata(billing_change())
    emu.org.assign_permission_set(emu.username, "Billing_Sync_Integration")
    return emu
