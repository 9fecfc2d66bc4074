"""Verdict -> text: Markdown summary, terminal block, result JSON, annotations. Pure strings."""
