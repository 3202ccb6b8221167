"""One module per ``billing-sync`` subcommand (NAME, HELP, configure, run)."""

__all__: list[str] = []
