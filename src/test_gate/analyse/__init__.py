"""Stage 3, deciding: pure functions from records to one result (verdict, causes, diagnosis)."""
