#!/usr/bin/env python3
"""Prints one closing line for `make test`: every Rust and Playwright test, passed and failed.

cargo prints a result line per test binary (many of them "0 passed" doc-test lines) and
Playwright its own summary; CI wants one total at the end.
"""
import json
import re
import sys
from pathlib import Path

root = Path(__file__).resolve().parent.parent
passed = failed = skipped = 0

rust_log = root / "target" / "test-rust.log"
if rust_log.exists():
    for m in re.finditer(r"test result: \w+\. (\d+) passed; (\d+) failed; (\d+) ignored", rust_log.read_text()):
        passed += int(m.group(1))
        failed += int(m.group(2))
        skipped += int(m.group(3))

e2e = root / "target" / "e2e-results.json"
if e2e.exists():
    stats = json.loads(e2e.read_text()).get("stats", {})
    passed += stats.get("expected", 0) + stats.get("flaky", 0)
    failed += stats.get("unexpected", 0)
    skipped += stats.get("skipped", 0)

print(f"total: {passed} passed, {failed} failed, {skipped} skipped")
sys.exit(1 if failed else 0)
