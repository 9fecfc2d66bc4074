"""What test-gate and its pytest plugin agree on: option names, report keys, limits.

This is the one place these names live. It imports nothing but the standard library, so
test-gate reads it without importing pytest.
"""

from __future__ import annotations

__version__ = "0.6.0"

# the version of the record the plugin writes; test-gate refuses one it does not know
# (3: a test's plainly passed phases are written with its end, as [when, seconds];
# 4: the record's "reports" list holds them compact too, see PASSED;
# 5: the process-global state each test left changed, see SECTION_STATE;
# 6: "forked", a child a test forked went on with the session, see SECTION_FORKED)
SCHEMA = 6

# pytest options the plugin adds (all off until asked for)
OPT_ENABLE = "--test-gate"
OPT_RUN_ID = "--test-gate-run-id"  # proves a report was written by this run
OPT_RECORD = "--test-gate-record"  # also write the record to this file (no JSON report needed)
# settings test-gate asks for only where the user's options and configuration set none
OPT_RERUNS = "--test-gate-reruns"
OPT_BUCKET = "--test-gate-bucket"
OPT_TEST_TIMEOUT = "--test-gate-test-timeout"
OPT_STACKS = "--test-gate-stacks"  # on SIGUSR1, every thread's stack goes to this file
OPT_ORDER = "--test-gate-order"  # run exactly these ids (a file, one a line), in this order
OPT_OUTCOMES = "--test-gate-outcomes"  # write each test's outcome here (with the exact order)
OPT_REPORT = "--test-gate-report"  # save pytest-json-report's report here, with json.dumps
OPT_SHARD = "--test-gate-shard"  # run part K of N of the collected suite
OPT_DURATIONS = "--test-gate-durations"  # split the shards by the durations in this file
OPT_NO_STATE = "--test-gate-no-state"  # do not watch the state each test leaves behind
OPT_DIGEST_ONLY = "--test-gate-digest-only"  # of OPT_REPORT's report, save only its digest

# the events of the record file, one JSON object a line: "start", "collect_error",
# "collected" (the last one counts), "test_start" and "test_end" (around each test),
# "report" (one per phase report, except the phases that plainly passed: those come with
# "test_end" as "passed": [[when, seconds], ...] and the test's "location"), "state" (a
# test that left process-global state changed, as an entry of SECTION_STATE), "forked" (an
# entry of SECTION_FORKED, appended by the child), "finish"
# the key of the record in pytest-json-report's report
REPORT_KEY = "test_gate"
# beside the report --test-gate-report saves, its digest (this suffix added to the report's
# path): what the gate's cross-check needs of it, small enough to read at once: the report's
# "exitcode", "root", "summary", its failed "collectors", the "tests" it does not call
# plainly passed (passed, and passed every stage), and the ids of those it does (PLAINLY)
DIGEST_SUFFIX = ".digest"
PLAINLY = "plainly_passed"
# in the record's "reports" list, phases that plainly passed (outcome "passed", nothing else
# said) in a row, of one test, are one entry: {"nodeid", "location", PASSED: [[when, seconds],
# ...]}, with no "when" of its own; every other phase report is an entry of its own
PASSED = "passed"
# a phase report can be part of a row when it passed and has these keys and no other
PLAIN_KEYS = frozenset({"nodeid", "when", "outcome", "duration", "location"})
PHASES = ("setup", "call", "teardown")
# keys of the record's sections about what never ran
SECTION_IGNORED = "ignored"
SECTION_DESELECTED = "deselected_by_file"
SECTION_NEVER_RAN = "never_ran"
SECTION_SETTINGS = "collect_settings"
# the process-global state tests left changed, in the order they ran: [{"nodeid", "changes":
# [{"key", "before", "after"}, ...], "worker"?}], one entry per test that changed something
SECTION_STATE = "state_changes"
# children a test forked from pytest that went on with the session (their own writes never
# reach the record): [{"pid", "parent", "nodeid": the test that forked}]
SECTION_FORKED = "forked"
# what the state watch says of itself, in a sentence each (it looked at a busy directory less
# often): [text, ...]
SECTION_WATCH_NOTES = "state_watch_notes"

# directory entries looked at, at most, to decide whether a directory holds test files; the
# gate's attribution (counting tests in ignored files) walks with the same bound
WALK_LIMIT = 20_000
# directories that hold no tests of the project
NOT_NEWS = frozenset({"__pycache__", "node_modules", "site-packages", "dist-packages"})
# longest text kept of one message or traceback
MAX_TEXT = 20_000
