"""SOAP 1.1 envelopes and faults in the shape the Metadata API sends them."""

from __future__ import annotations

from datetime import UTC, datetime

from lxml import etree

from .schema import MD_NS

__all__ = [
    "SOAP_NS",
    "XSI_NS",
    "SoapFault",
    "envelope",
    "fault_envelope",
    "iso",
    "sub",
    "to_bytes",
]

SOAP_NS = "http://schemas.xmlsoap.org/soap/envelope/"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"
_NSMAP = {"soapenv": SOAP_NS, None: MD_NS, "xsi": XSI_NS}


class SoapFault(Exception):
    """A call-level failure: HTTP 500 with a soapenv:Fault, as Salesforce answers.

    ``code`` is an ``sf:`` exception code (INVALID_SESSION_ID, ...) or, for a request the
    server cannot read at all, ``soapenv:Client``.
    """

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


def iso(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"


def sub(parent: etree._Element, name: str, text: object = None) -> etree._Element:
    node = etree.SubElement(parent, f"{{{MD_NS}}}{name}")
    if text is not None:
        if isinstance(text, bool):
            node.text = "true" if text else "false"
        elif isinstance(text, datetime):
            node.text = iso(text)
        else:
            node.text = str(text)
    return node


def envelope() -> tuple[etree._Element, etree._Element]:
    """A response envelope and its Body."""
    root = etree.Element(f"{{{SOAP_NS}}}Envelope", nsmap=_NSMAP)
    body = etree.SubElement(root, f"{{{SOAP_NS}}}Body")
    return root, body


def to_bytes(root: etree._Element) -> bytes:
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def fault_envelope(fault: SoapFault) -> bytes:
    root = etree.Element(
        f"{{{SOAP_NS}}}Envelope", nsmap={"soapenv": SOAP_NS, "sf": MD_NS, "xsi": XSI_NS}
    )
    body = etree.SubElement(root, f"{{{SOAP_NS}}}Body")
    node = etree.SubElement(body, f"{{{SOAP_NS}}}Fault")
    client_error = fault.code.startswith("soapenv:")
    etree.SubElement(node, "faultcode").text = fault.code if client_error else f"sf:{fault.code}"
    etree.SubElement(node, "faultstring").text = (
        fault.message if client_error else f"{fault.code}: {fault.message}"
    )
    if not client_error:
        detail = etree.SubElement(node, "detail")
        api = etree.SubElement(detail, f"{{{MD_NS}}}UnexpectedErrorFault")
        api.set(f"{{{XSI_NS}}}type", "sf:UnexpectedErrorFault")
        etree.SubElement(api, f"{{{MD_NS}}}exceptionCode").text = fault.code
        etree.SubElement(api, f"{{{MD_NS}}}exceptionMessage").text = fault.message
    return to_bytes(root)
