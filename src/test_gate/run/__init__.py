"""Stage 1, running: every pytest process test-gate starts (the main run, other orders,
diagnosis probes, the collection of `test-gate ignored`) and the interpreter they run in."""
