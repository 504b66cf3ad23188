#!/usr/bin/env bash
# Instructions per call of the protocol core's signing/verification against the bare aws-lc-rs
# operation on the same bytes (crates/alipay-v3/benches/overhead.rs), counted by callgrind: exact and
# repeatable whatever else the machine is doing. Needs valgrind.
#
#   bench/overhead-instructions.sh
set -euo pipefail
cd "$(dirname "$0")/.."

command -v valgrind >/dev/null || { echo "error: valgrind is not installed" >&2; exit 2; }
BIN=$(cargo bench -p alipay-v3 --bench overhead --no-run --message-format=json 2>/dev/null |
  sed -n 's/.*"executable":"\([^"]*overhead[^"]*\)".*/\1/p' | tail -n 1)
[ -x "$BIN" ] || { echo "error: could not build the overhead bench" >&2; exit 1; }

OUT=$(mktemp -d "${TMPDIR:-/tmp}/jobworth-callgrind-XXXXXX")
trap 'rm -rf "$OUT"' EXIT
valgrind --tool=callgrind --callgrind-out-file="$OUT/cg.out" "$BIN" --quick >/dev/null 2>"$OUT/valgrind.log"
callgrind_annotate --inclusive=yes --threshold=100 --tree=both "$OUT/cg.out" >"$OUT/annotated.txt" 2>/dev/null

# For each named function: its inclusive instructions (its own "*" line) and its number of calls (summed
# over the "> callee (Nx)" lines of its callers).
awk '
  /\*  .*overhead::(sdk|bare)_/ {
    match($0, /overhead::(sdk|bare)_[a-z_]+/); name = substr($0, RSTART + 10, RLENGTH - 10)
    gsub(",", "", $1); incl[name] = $1; next
  }
  /> .*overhead::(sdk|bare)_[a-z_]+ \(/ {
    match($0, /overhead::(sdk|bare)_[a-z_]+/); name = substr($0, RSTART + 10, RLENGTH - 10)
    if (match($0, /\(([0-9,]+)x\)/)) { c = substr($0, RSTART + 1, RLENGTH - 3); gsub(",", "", c); calls[name] += c }
  }
  END {
    n = split("sign_request verify_response verify_request sign_response", ops, " ")
    printf "%-18s %16s %16s %10s\n", "operation", "core instr/call", "bare instr/call", "overhead"
    for (i = 1; i <= n; i++) {
      s = "sdk_" ops[i]; b = "bare_" ops[i]
      if (!(s in incl) || !(b in incl) || !calls[s] || !calls[b]) { printf "%-18s (not found)\n", ops[i]; continue }
      sp = incl[s] / calls[s]; bp = incl[b] / calls[b]
      printf "%-18s %16.0f %16.0f %9.2f%%\n", ops[i], sp, bp, (sp / bp - 1) * 100
    }
  }
' "$OUT/annotated.txt"
