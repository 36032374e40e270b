"""CLI command modules (see ``pipeline.cli``)."""
