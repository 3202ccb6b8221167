"""Local stand-ins for Stripe and Salesforce, for tests and the demo. Never imported by the
engine itself."""

__all__: list[str] = []
