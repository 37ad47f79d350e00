"""The demo and sample data. The source tree keeps it at the top (data/); the wheel installs
it as the package leadms_tui.data (pyproject's package-dir), found with importlib.resources."""
