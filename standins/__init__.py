"""Local stand-ins for the services billing-sync talks to: Stripe, Salesforce and Slack.

They serve the tests and ``billing-sync demo`` (and ``billing-sync emulator``) over HTTP on
127.0.0.1. This package imports nothing from the engine (``sync``, ``metadata``, ``scheduler``)
and the engine never imports it; ``tests/test_layout.py`` holds both directions.
"""

__all__ = ["demo_data", "env", "salesforce", "serving", "slack", "stripe"]
