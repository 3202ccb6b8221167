"""The Metadata API endpoint: one SOAP request in, one SOAP response (or fault) out.

B1's HTTPS server routes ``POST /services/Soap/m/{version}`` and everything under it
(simple-salesforce posts deploys to ``.../deployRequest`` and status checks to
``.../deployRequest/{id}``; zeep posts to the bare URL) to ``handle_soap``.
"""

from __future__ import annotations

import re

from lxml import etree

from .deploy import check_deploy_status, start_deploy
from .envelope import SOAP_NS, SoapFault, envelope, fault_envelope, sub, to_bytes
from .read import list_metadata, read_metadata
from .schema import MD_NS

__all__ = ["MAX_API_VERSION", "MIN_API_VERSION", "handle_soap"]

_NS = f"{{{MD_NS}}}"
MIN_API_VERSION = 31.0
MAX_API_VERSION = 68.0
# Operations the Metadata WSDL defines that the stand-in answers with a fault.
_KNOWN_OPERATIONS = frozenset(
    {
        "cancelDeploy", "checkRetrieveStatus", "createMetadata", "deleteMetadata",
        "deployRecentValidation", "describeMetadata", "describeValueType", "renameMetadata",
        "retrieve", "updateMetadata", "upsertMetadata",
    }
)  # fmt: skip


def handle_soap(org, body: bytes, version: str) -> tuple[int, bytes]:
    """Answer one Metadata API call: (HTTP status, SOAP envelope). Faults are HTTP 500."""
    try:
        return 200, _dispatch(org, body, version)
    except SoapFault as fault:
        return 500, fault_envelope(fault)


def _dispatch(org, body: bytes, version: str) -> bytes:
    if not re.fullmatch(r"\d+\.0", version or "") or not (
        MIN_API_VERSION <= float(version) <= MAX_API_VERSION
    ):
        raise SoapFault(
            "UNSUPPORTED_API_VERSION", f"Invalid Api version specified on URL: {version}"
        )
    try:
        root = etree.fromstring(
            body, etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
        )
    except etree.XMLSyntaxError as exc:
        raise SoapFault("soapenv:Client", f"Could not parse the request: {exc.msg}") from None
    if root.tag != f"{{{SOAP_NS}}}Envelope":
        raise SoapFault("soapenv:VersionMismatch", "Wrong SOAP envelope namespace")
    request_body = root.find(f"{{{SOAP_NS}}}Body")
    call = (
        None
        if request_body is None
        else next((c for c in request_body if isinstance(c.tag, str)), None)
    )
    if call is None:
        raise SoapFault("soapenv:Client", "The SOAP Body holds no request")
    operation = etree.QName(call)
    if operation.namespace != MD_NS:
        raise SoapFault("soapenv:Client", f"No operation available for request {call.tag}")
    user = _session_user(org, root)
    name = operation.localname
    response, body_node = envelope()
    wrapper = sub(body_node, f"{name}Response")
    if name == "deploy":
        wrapper.append(start_deploy(org, user, call))
    elif name == "checkDeployStatus":
        wrapper.append(check_deploy_status(org, call))
    elif name == "readMetadata":
        wrapper.append(read_metadata(org, call))
    elif name == "listMetadata":
        wrapper.extend(list_metadata(org, call))
    elif name in _KNOWN_OPERATIONS:
        raise SoapFault(
            "UNSUPPORTED_OPERATION",
            f"The Salesforce stand-in does not implement the Metadata API call {name}",
        )
    else:
        raise SoapFault("soapenv:Client", f"No operation available for request {call.tag}")
    return to_bytes(response)


def _session_user(org, root: etree._Element) -> str:
    token = (root.findtext(f"{{{SOAP_NS}}}Header/{_NS}SessionHeader/{_NS}sessionId") or "").strip()
    user = org.user_for_token(token) if token else None
    if not user:
        raise SoapFault(
            "INVALID_SESSION_ID", "Invalid Session ID found in SessionHeader: Illegal Session"
        )
    return user
