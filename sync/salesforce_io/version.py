"""Which billing-sync schema version an org carries: one readMetadata call.

The marker lives in the description of ``Sync_Error__c`` (``metadata.schema``), deployed in
the same transaction as everything else, so it never claims a version that did not land.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from xml.sax.saxutils import escape

import requests
from simple_salesforce.api import Salesforce

from metadata import schema
from metadata.schema import Category

from ..errors import StopCycle
from .errors import call as _call

__all__ = ["MD", "deployed_version", "needs_deploy"]

MD = "{http://soap.sforce.com/2006/04/metadata}"


def _read_metadata_envelope(session_id: str, type_name: str, full_name: str) -> str:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" '
        'xmlns:met="http://soap.sforce.com/2006/04/metadata">'
        f"<soapenv:Header><met:SessionHeader><met:sessionId>{escape(session_id)}"
        "</met:sessionId></met:SessionHeader></soapenv:Header>"
        f"<soapenv:Body><met:readMetadata><met:type>{escape(type_name)}</met:type>"
        f"<met:fullNames>{escape(full_name)}</met:fullNames></met:readMetadata>"
        "</soapenv:Body></soapenv:Envelope>"
    )


def deployed_version(sf: Salesforce) -> str | None:
    """The schema version the org carries, from one readMetadata call; None if never deployed.

    The call goes through ``sf.session`` rather than ``sf.mdapi`` (zeep): zeep builds its own
    HTTP session, which would bypass the CA bundle and re-authentication we configured.
    """
    body = _read_metadata_envelope(sf.session_id, "CustomObject", schema.VERSION_MARKER_OBJECT)

    def post() -> requests.Response:
        resp = sf.session.post(
            sf.metadata_url,
            data=body.encode("utf-8"),
            headers={"Content-Type": "text/xml; charset=UTF-8", "SOAPAction": "readMetadata"},
        )
        if resp.status_code >= 300:
            from simple_salesforce.util import exception_handler

            exception_handler(resp, "readMetadata")
        return resp

    resp = _call("Reading the schema version", post)
    try:
        root = ET.fromstring(resp.content)
    except ET.ParseError:
        raise StopCycle(
            "Reading the schema version: Salesforce sent a malformed reply",
            code="MALFORMED",
            category=Category.CONFIGURATION,
        ) from None
    for record in root.iter(f"{MD}records"):
        if record.findtext(f"{MD}fullName"):
            return schema.parse_version_marker(record.findtext(f"{MD}description"))
    return None


def needs_deploy(sf: Salesforce, version: str = schema.SCHEMA_VERSION) -> bool:
    """True when the org's deployed schema version differs from ``version`` (or is absent)."""
    return deployed_version(sf) != version
