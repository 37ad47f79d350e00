"""Sales: clients, conversion, commission and onboarding."""
