#!/usr/bin/env bash
# The documented long fuzz run (RELIABILITY.md): SECS seconds per target (default 300), each
# from a fresh corpus seeded with seeds/<target> and regressions/<target>. Prints one line
# per target with libFuzzer's own figures; exits non-zero on the first crash.
# Usage: fuzz/long_run.sh [SECS] [TARGET...]
set -euo pipefail
cd "$(dirname "$0")"
secs=${1:-300}
shift || true
export RUSTC_BOOTSTRAP=1
cargo fuzz build --sanitizer none >/dev/null 2>&1 || cargo fuzz build --sanitizer none
targets=${*:-$(cargo fuzz list)}
out=$(mktemp -d)
echo "target | seconds | execs | execs/s | cov (edges) | features | corpus | crashes"
for t in $targets; do
  corpus="$out/corpus-$t"
  mkdir -p "$corpus"
  dirs=("$corpus" "seeds/$t")
  [ -d "regressions/$t" ] && dirs+=("regressions/$t")
  log="$out/$t.log"
  if ! nice cargo fuzz run --sanitizer none "$t" "${dirs[@]}" -- \
      -max_total_time="$secs" -print_final_stats=1 -close_fd_mask=1 >"$log" 2>&1; then
    tail -n 60 "$log"
    echo "$t | CRASH (input under fuzz/artifacts/$t/, log $log)"
    exit 1
  fi
  execs=$(grep -o 'stat::number_of_executed_units: [0-9]*' "$log" | awk '{print $2}')
  rate=$(grep -oE 'stat::average_exec_per_sec: +[0-9]+' "$log" | awk '{print $2}')
  last=$(grep -E '^#[0-9]+' "$log" | grep 'cov:' | tail -n 1)
  cov=$(grep -o 'cov: [0-9]*' <<<"$last" | awk '{print $2}')
  ft=$(grep -o 'ft: [0-9]*' <<<"$last" | awk '{print $2}')
  corp=$(grep -o 'corp: [0-9]*/[0-9]*[a-zA-Z]*' <<<"$last" | awk '{print $2}')
  echo "$t | $secs | $execs | $rate | $cov | $ft | $corp | 0"
done
