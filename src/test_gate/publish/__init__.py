"""Stage 5, publishing: the one place that writes files and talks to GitHub Actions."""
