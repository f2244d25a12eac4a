#!/usr/bin/env bash
# make test (issue 13 §2, issue 20 §5): run every stage even when an earlier one fails, then print each
# stage's result, wall time and CPU seconds; exit 1 if any failed.
# Usage: scripts/test_stages.sh MAKE STAGE[+STAGE...]...
# STAGE+STAGE runs those stages at the same time (one that leaves a CPU idle beside one that does not);
# their output is printed, stage by stage, when all of them are done.
# A signal (Ctrl+C, a CI time-out's SIGTERM) ends the whole run: each running stage gets SIGTERM in its
# own process group (make does not pass signals on, so the group is signalled: make and its pytest, whose
# tests/process_guard.py stops the servers and kernels), the script waits for them, and no later stage runs.
set -m   # each background stage gets a process group of its own (and does not ignore SIGINT)
make_cmd=$1; shift
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
pids=()

stop() {
  echo "make test: stopped by SIG$1 during stage(s) ${running:-?}" >&2
  for p in "${pids[@]}"; do kill -TERM -- "-$p" 2>/dev/null; done
  for _ in $(seq 600); do   # until every stage's process group is gone (a ceiling of 60 s)
    alive=0
    for p in "${pids[@]}"; do kill -0 -- "-$p" 2>/dev/null && alive=1; done
    [ $alive -eq 0 ] && break
    sleep 0.1
  done
  exit $((128 + $2))
}
trap 'stop INT 2' INT
trap 'stop TERM 15' TERM

# run_stage STAGE OUT RES: run one stage (output to OUT, or to the terminal when OUT is -); write
# "exit-code seconds cpu-seconds" to RES. CPU: bash's `times` (second line: this subshell's children).
run_stage() {
  local stage=$1 out=$2 res=$3 t0=$SECONDS rc
  if [ "$out" = - ]; then
    $make_cmd --no-print-directory "$stage"
  else
    $make_cmd --no-print-directory "$stage" > "$out" 2>&1
  fi
  rc=$?
  times > "$res.times"
  echo "$rc $((SECONDS - t0)) $(tail -1 "$res.times" | awk '{ s = 0; for (i = 1; i <= 2; i++) {
      split($i, a, /[ms]/); s += 60 * a[1] + a[2] } printf "%.0f", s }')" > "$res"
}

summary=()
failed=0
start=$SECONDS
for spec in "$@"; do
  IFS=+ read -r -a group <<< "$spec"
  running=${spec//+/ and }
  pids=()
  if [ ${#group[@]} -gt 1 ]; then
    echo "===== make test: ${running} run at the same time; their output follows when all are done ====="
  fi
  for stage in "${group[@]}"; do
    out=-
    [ ${#group[@]} -gt 1 ] && out="$work/$stage.log"
    run_stage "$stage" "$out" "$work/$stage.res" &
    pids+=($!)
  done
  for p in "${pids[@]}"; do wait "$p"; done
  pids=()
  for stage in "${group[@]}"; do
    if [ ${#group[@]} -gt 1 ]; then
      echo; echo "===== stage $stage (output) ====="; cat "$work/$stage.log"
    fi
    read -r rc dt cpu < "$work/$stage.res" || { rc=1; dt=0; cpu=0; }
    if [ "$rc" -ne 0 ]; then
      result="FAILED (exit $rc)"; failed=1
    elif [ "$stage" = browser ] && [ ! -x "${CHROMIUM:-/usr/bin/chromium}" ]; then
      result="SKIPPED (no Chromium at ${CHROMIUM:-/usr/bin/chromium})"
    elif [ "$stage" = portability ] && ! uname -m | grep -qiE '^(x86_64|amd64)$'; then
      result="SKIPPED (no x86 code paths on $(uname -m))"
    else
      result="passed"
    fi
    beside=""
    for other in "${group[@]}"; do [ "$other" != "$stage" ] && beside+="${beside:+, }$other"; done
    [ -n "$beside" ] && beside="  (beside $beside)"
    summary+=("$(printf '%-12s %-40s %5d s  %5d s CPU%s' "$stage" "$result" "$dt" "$cpu" "$beside")")
  done
done
echo
echo "===== make test: summary ($(nproc 2>/dev/null || echo ?) CPUs; load average at the end:" \
     "$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo n/a)) ====="
printf '  %s\n' "${summary[@]}"
echo "  total $((SECONDS - start)) s"
if [ "$failed" -ne 0 ]; then echo "  => FAILED"; exit 1; fi
echo "  => all passed"
