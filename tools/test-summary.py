#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Counts the results of one or more meson test runs from their testlog.json files.

A TAP test program counts each of its test cases ("ok", "not ok", "# SKIP");
a program that died before reporting all of them counts one more failure.
Other tests count once. Prints "N passed, N failed, N skipped" and exits 1
when anything failed or nothing ran.
"""
import json
import re
import sys

TAP_LINE = re.compile(r'^(ok|not ok)\b(.*)$')


def count(path):
    passed = failed = skipped = 0
    failures = []
    with open(path, encoding='utf-8', errors='replace') as log:
        for line in log:
            test = json.loads(line)
            name, result = test['name'], test['result']
            stdout = test.get('stdout') or ''
            tap = [m for m in (TAP_LINE.match(l) for l in stdout.splitlines()) if m]
            if tap and re.search(r'^1\.\.\d+', stdout, re.M):
                for m in tap:
                    if '# SKIP' in m.group(2).upper():
                        skipped += 1
                    elif m.group(1) == 'ok':
                        passed += 1
                    else:
                        failed += 1
                        failures.append(f'{name}:{m.group(2).strip()}')
                if result not in ('OK', 'EXPECTEDFAIL', 'SKIP') and not any(m.group(1) == 'not ok' for m in tap):
                    failed += 1
                    failures.append(f'{name} ({result})')
            elif result == 'OK':
                passed += 1
            elif result == 'SKIP':
                skipped += 1
            elif result == 'EXPECTEDFAIL':
                passed += 1
            else:
                failed += 1
                failures.append(f'{name} ({result})')
    return passed, failed, skipped, failures


def main(paths):
    total = [0, 0, 0]
    for path in paths:
        p, f, s, failures = count(path)
        total[0] += p
        total[1] += f
        total[2] += s
        for failure in failures:
            print(f'FAILED: {failure}  [{path}]')
    print(f'{total[0]} passed, {total[1]} failed, {total[2]} skipped')
    return 1 if total[1] or total[0] == 0 else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
