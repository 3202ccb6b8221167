"""Fixtures for the metadata tests: the Metadata WSDL's schema and the Salesforce stand-in."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import requests
import simple_salesforce
import xmlschema
from lxml import etree

XSD = "http://www.w3.org/2001/XMLSchema"
MD_NS = "http://soap.sforce.com/2006/04/metadata"
# The root elements our files use; the WSDL declares them as complexTypes only.
ROOT_TYPES = ("CustomObject", "CustomField", "ListView", "CustomTab", "PermissionSet", "Package")


@pytest.fixture(scope="session")
def metadata_xsd() -> xmlschema.XMLSchema:
    """The <types> schema of simple-salesforce's bundled metadata.wsdl, plus root elements."""
    wsdl = Path(simple_salesforce.__file__).parent / "metadata.wsdl"
    bundled = etree.parse(str(wsdl)).find(f".//{{{XSD}}}schema")
    # Re-root it so the tns prefix the WSDL declares on <definitions> stays in scope.
    root = etree.Element(f"{{{XSD}}}schema", nsmap={"xsd": XSD, "tns": MD_NS})
    for key, value in bundled.attrib.items():
        root.set(key, value)
    for child in bundled:
        root.append(copy.deepcopy(child))
    for name in ROOT_TYPES:
        element = etree.SubElement(root, f"{{{XSD}}}element")
        element.set("name", name)
        element.set("type", f"tns:{name}")
    return xmlschema.XMLSchema(etree.tostring(root).decode())


@pytest.fixture
def standin(tmp_path):
    from standins.salesforce import SalesforceStandIn

    with SalesforceStandIn(tmp_path) as standin:
        yield standin


def connect(standin, token: str | None = None) -> simple_salesforce.Salesforce:
    session = requests.Session()
    session.verify = str(standin.ca_file)
    # With REQUESTS_CA_BUNDLE set in the environment, requests prefers it over session.verify
    # (psf/requests#3829) and the stand-in's throwaway CA would be ignored.
    session.trust_env = False
    return simple_salesforce.Salesforce(
        instance_url=standin.instance_url,
        session_id=token or standin.issue_token(),
        version="66.0",
        session=session,
    )


@pytest.fixture
def sf(standin) -> simple_salesforce.Salesforce:
    return connect(standin)
