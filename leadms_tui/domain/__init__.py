"""The domain layer: models, services and repositories. Knows nothing of Textual or Typer."""
