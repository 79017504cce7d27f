#!/usr/bin/env bash
# Runs every test suite of `make test` and ends with one line
# "N passed, N failed" summing them. Exit status 0 only when all pass.
set -u
cd "$(dirname "$0")/.."

total_pass=0
total_fail=0
status=0
log=$(mktemp -d)
trap 'rm -rf "$log"' EXIT

# run NAME CMD...: runs one Criterion binary, adds its synthesis line.
run() {
    local name=$1; shift
    echo "== $name"
    "$@" 2>&1 | tee "$log/$name.out"
    local rc=${PIPESTATUS[0]}
    local line
    line=$(grep -a 'Synthesis:' "$log/$name.out" | tail -n 1)
    local tested passing failing crashing
    tested=$(sed -n 's/.*Tested: \([0-9]*\).*/\1/p' <<<"$line")
    passing=$(sed -n 's/.*Passing: \([0-9]*\).*/\1/p' <<<"$line")
    failing=$(sed -n 's/.*Failing: \([0-9]*\).*/\1/p' <<<"$line")
    crashing=$(sed -n 's/.*Crashing: \([0-9]*\).*/\1/p' <<<"$line")
    if [ -z "$tested" ]; then
        echo "!! $name: no test summary (exit $rc)"
        total_fail=$((total_fail + 1))
        status=1
        return
    fi
    # A leak or sanitizer report in a forked test worker does not fail the
    # test in Criterion's eyes: count each report as a failure here. One
    # kind is not ours: Criterion's runner process itself now and then
    # leaks an allocation of its own at exit (every frame in libcriterion);
    # those are shown and not counted.
    local reports
    reports=$(awk '
        /ERROR: AddressSanitizer|runtime error:/ { n++ }
        /ERROR: LeakSanitizer/ { inleak = 1; ours = 0; next }
        inleak && /^ *#[0-9]+ / {
            if ($1 != "#0" && $0 !~ /libcriterion/) ours = 1
            next
        }
        inleak && /^SUMMARY:/ { if (ours) n++; else print "   (a leak inside Criterion itself, not counted)" > "/dev/stderr"; inleak = 0 }
        END { print n + 0 }' "$log/$name.out")
    if [ "$reports" -gt 0 ]; then
        echo "!! $name: $reports sanitizer report(s) above"
        failing=$((failing + reports))
    fi
    total_pass=$((total_pass + passing))
    total_fail=$((total_fail + failing + crashing))
    if [ "$rc" -ne 0 ] || [ "$failing" -ne 0 ] || [ "$crashing" -ne 0 ]; then
        status=1
    fi
}

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
jobs=$(nproc 2>/dev/null || echo 2)

run unit build/test/unit --jobs "$jobs"
# Under Criterion a leak report does not make the suite's exit status: run()
# counts the reports in the output (ours fail, one inside Criterion's own
# runner does not). The servers of the integration and browser suites keep
# the default, a leak exits non-zero, and their harnesses check that.
LSAN_OPTIONS=${LSAN_OPTIONS:-exitcode=0} run unit-asan build/testsan/unit --jobs "$jobs"
CXM_BIN=./cxm run integration build/test/integration --jobs "$jobs"
CXM_BIN=build/asan/cxm CXM_SANITIZED=1 run integration-asan build/test/integration --jobs "$jobs"
# The survey pages and the widget in chromium (tests/browser/): prints its
# own Criterion-like synthesis line; under ASan it checks the server's log.
CXM_BIN=./cxm run browser node tests/browser/survey.test.js
CXM_BIN=build/asan/cxm run browser-asan node tests/browser/survey.test.js
# The dashboard (web/dashboard/) on demo data: sign-in, the Overview's
# numbers against the API, filters, accessibility, CSRF, roles.
CXM_BIN=./cxm run dashboard node tests/browser/dashboard.test.js
CXM_BIN=build/asan/cxm run dashboard-asan node tests/browser/dashboard.test.js
# One suite per further page, against the ASan server (its log checked for
# reports): the pages are the same files in both builds, so one run each.
for page in journeys feedback customers segments settings; do
    CXM_BIN=build/asan/cxm run "$page-asan" node "tests/browser/$page.test.js"
done

echo
echo "$total_pass passed, $total_fail failed"
exit $status
