"""Stage 2, reading: pytest's JSON report and the plugin's record into plain typed records,
and the project's files that say where each ignored test file is ignored."""
