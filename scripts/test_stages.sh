#!/usr/bin/env bash
# make test (issue 13 §2): run every stage even when an earlier one fails, then print each stage's
# result and time; exit 1 if any failed. Usage: scripts/test_stages.sh MAKE STAGE...
# A signal (Ctrl+C, a CI time-out's SIGTERM) is passed on to the running stage, whose pytest then
# stops its servers and kernels (tests/process_guard.py), and ends the whole run: no later stage.
make_cmd=$1; shift
child=0
stop() {
  echo "make test: stopped by SIG$1 during stage ${stage:-?}" >&2
  [ "$child" -ne 0 ] && kill -"$1" "$child" 2>/dev/null && wait "$child"
  exit $((128 + $2))
}
trap 'stop INT 2' INT
trap 'stop TERM 15' TERM
# CPU seconds of all finished child processes (user + system; bash's `times`, second line), into $cpu.
# `times` must run in this shell (a subshell's children are not ours), so it writes to a file.
cpu_file=$(mktemp); trap 'rm -f "$cpu_file"' EXIT
children_cpu() {
  times > "$cpu_file"
  cpu=$(tail -1 "$cpu_file" | awk '{ s = 0; for (i = 1; i <= 2; i++) { split($i, a, /[ms]/); s += 60 * a[1] + a[2] }
                                    printf "%.0f", s }')
}
summary=()
failed=0
for stage in "$@"; do
  t0=$SECONDS
  children_cpu; c0=$cpu
  $make_cmd --no-print-directory "$stage" &
  child=$!
  wait "$child"; rc=$?
  child=0
  dt=$((SECONDS - t0))
  if [ "$rc" -ne 0 ]; then
    result="FAILED (exit $rc)"; failed=1
  elif [ "$stage" = browser ] && [ ! -x "${CHROMIUM:-/usr/bin/chromium}" ]; then
    result="SKIPPED (no Chromium at ${CHROMIUM:-/usr/bin/chromium})"
  elif [ "$stage" = portability ] && ! uname -m | grep -qiE '^(x86_64|amd64)$'; then
    result="SKIPPED (no x86 code paths on $(uname -m))"
  else
    result="passed"
  fi
  children_cpu
  summary+=("$(printf '%-12s %-40s %5d s  (%d s CPU)' "$stage" "$result" "$dt" $((cpu - c0)))")
done
echo
echo "===== make test: summary ($(nproc 2>/dev/null || echo ?) CPUs; load average at the end: $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo n/a)) ====="
printf '  %s\n' "${summary[@]}"
if [ "$failed" -ne 0 ]; then echo "  => FAILED"; exit 1; fi
echo "  => all passed"
