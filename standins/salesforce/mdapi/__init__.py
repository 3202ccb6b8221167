"""The Salesforce stand-in's Metadata API: deploy, checkDeployStatus, readMetadata."""

from .soap import handle_soap

__all__ = ["handle_soap"]
