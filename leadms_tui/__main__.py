"""`python -m leadms_tui` is the `leadms` command."""

from leadms_tui.cli import main

if __name__ == "__main__":  # not when a helper process (imports) imports the main module
    main()
