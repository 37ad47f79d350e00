"""The domain layer: models, services and query modules. Knows nothing of Textual or Typer."""
