#!/usr/bin/env bash
# Runs a program of the examples module from the repository root, in a new offline JVM, on the
# classpath the build writes (the same one as ./djl-quant). Build once first:
#     mvn -B -ntp -q verify -DskipTests
# Usage: examples/scripts/run-example.sh <main class> [arguments...]
# Extra JVM options: DJL_QUANT_JAVA_OPTS="-Xmx8g" examples/scripts/run-example.sh ...
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
target="$root/djl-quant-cli/target"
if [[ ! -f "$target/classpath.txt" ]]; then
    echo "run-example: not built yet; run (in $root): mvn -B -ntp -q verify -DskipTests" >&2
    exit 1
fi
java="java"
if [[ -n "${JAVA_HOME:-}" ]]; then
    java="$JAVA_HOME/bin/java"
fi
main="$1"
shift
cd "$root"
# shellcheck disable=SC2086
exec "$java" -Dai.djl.offline=true \
    -Dorg.slf4j.simpleLogger.defaultLogLevel=warn \
    -Dorg.slf4j.simpleLogger.log.ai.djl.util.cuda.CudaUtils=error \
    ${DJL_QUANT_JAVA_OPTS:-} \
    -cp "$(cat "$target/classpath.txt")" "$main" "$@"
