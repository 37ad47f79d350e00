"""Lead MS: a keyboard-first terminal CRM and lead-management system."""

__version__ = "0.1.0"
