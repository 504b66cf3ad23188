#!/usr/bin/env bash
# The official Java v3 SDK (alipay-sdk-java-v3, pinned in interop/java/pom.xml) as a load client:
# the same closed loop as bench/node-client.mjs, plus a JIT warm-up before the clock and cpu_secs.
#
#   bench/java-client.sh --endpoint http://127.0.0.1:PORT [--concurrency N] [--duration SECS] [--warmup SECS] [--json]
#
# Needs a JDK 17+ and Maven. Compiles interop/java once (build output goes to stderr; stdout is the report).
set -euo pipefail
DIR="$(cd "$(dirname "$0")/../interop/java" && pwd)"
CP_FILE="$DIR/target/bench-classpath.txt"
if [ ! -f "$CP_FILE" ] || [ -n "$(find "$DIR/src/main" "$DIR/pom.xml" -newer "$CP_FILE" -print -quit)" ]; then
  (cd "$DIR" && mvn -B -q -DskipTests compile dependency:build-classpath -Dmdep.outputFile="$CP_FILE") >&2
fi
exec java ${JAVA_BENCH_OPTS:-} -cp "$DIR/target/classes:$(cat "$CP_FILE")" dev.jobworth.interop.bench.JavaLoadClient "$@"
