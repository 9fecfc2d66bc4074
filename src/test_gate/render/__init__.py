"""Stage 4, rendering: the result as text (Markdown summary, terminal block, result JSON,
annotations, step outputs). Pure strings; nothing here writes."""
