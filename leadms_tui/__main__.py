"""`python -m leadms_tui` is the `leadms` command."""

from leadms_tui.cli import main

main()
