#!/usr/bin/env bash
# Calibration script of the reference MobileNetV2-style network (depthwise 3x3, ReLU6):
# quantize it with the committed calibration subset (calibration-data/calibration), measure fp32
# and int8 top-1 on the committed test split, time both side by side, export the artifact
# build/artifacts/mobilenet-int8, reload it through DJL's Criteria, check that the reloaded model gives
# bit-identical outputs on the whole test split, and print a short summary.
#
# Build once first (repository root): mvn -B -ntp -q verify -DskipTests
# Options are passed on, e.g. --threads 1, --samples 1000, --output DIR, --json FILE, --limit N.
set -euo pipefail
exec "$(dirname "${BASH_SOURCE[0]}")/run-example.sh" \
    ai.djlquant.examples.quantize.QuantizeReferenceModel mobilenet --overwrite "$@"
