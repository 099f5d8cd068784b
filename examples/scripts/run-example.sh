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
# glibc gives freed memory back to the OS between calls by default, and every large tensor is then
# mapped and faulted in again on the next call: PyTorch's fp32 cnn at batch 32 ran 7-13 ms instead
# of 5.5 ms, and the int8 model 2-4x slower too, depending on what the process had run before.
# Keep the heap, as a long-running server under steady load does (your own values win).
export MALLOC_MMAP_THRESHOLD_="${MALLOC_MMAP_THRESHOLD_:-33554432}"
export MALLOC_TRIM_THRESHOLD_="${MALLOC_TRIM_THRESHOLD_:-268435456}"
java="java"
if [[ -n "${JAVA_HOME:-}" ]]; then
    java="$JAVA_HOME/bin/java"
fi
main="$1"
shift
cd "$root"
# shellcheck disable=SC2086
exec "$java" -Dai.djl.offline=true --add-modules jdk.incubator.vector \
    -Dorg.slf4j.simpleLogger.defaultLogLevel=warn \
    -Dorg.slf4j.simpleLogger.log.ai.djl.util.cuda.CudaUtils=error \
    ${DJL_QUANT_JAVA_OPTS:-} \
    -cp "$(cat "$target/classpath.txt")" "$main" "$@"
