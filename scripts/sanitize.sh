#!/bin/sh
# ASan + UBSan run of the test suite and the bad-input matrix (a developer check, not part of CI).
#
#   scripts/sanitize.sh            build build-asan/ (cmake-js, MB_SANITIZE=ON) and run everything
#   scripts/sanitize.sh test/kernels   run only the given vitest paths
#
# The addon is built with -fsanitize=address,undefined through CMakeLists.txt; Node itself is not
# instrumented, so the sanitizer runtimes are preloaded and the build is chosen with MINIBATCH_ADDON
# (child processes of the tests, such as the matrix groups, inherit both). Leak detection is off:
# V8 keeps allocations alive until exit. UBSan reports are made fatal, so any finding fails the run.
# Skipped under the sanitizers: the install test (it builds its own release binary) and the MNIST
# run (minutes under ASan). Needs cmake, gcc/g++ with libasan and libubsan.
set -eu
cd "$(dirname "$0")/.."
JOBS="${JOBS:-2}"
LOG="${TMPDIR:-/tmp}/minibatch-asan-build.log"

if [ "${SKIP_BUILD:-0}" != 1 ]; then
  npx cmake-js compile --out build-asan -D --CDMB_SANITIZE=ON --parallel "$JOBS" >"$LOG" 2>&1 ||
    { tail -n 40 "$LOG"; echo "sanitizer build failed (log: $LOG)" >&2; exit 1; }
fi
ADDON="$PWD/build-asan/Debug/minibatch.node"
[ -f "$ADDON" ] || { echo "no $ADDON after the build" >&2; exit 1; }

LD_PRELOAD="$(gcc -print-file-name=libasan.so) $(gcc -print-file-name=libubsan.so)"
ASAN_OPTIONS="detect_leaks=0:abort_on_error=1:halt_on_error=1"
UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
export LD_PRELOAD ASAN_OPTIONS UBSAN_OPTIONS
export MINIBATCH_ADDON="$ADDON" MINIBATCH_BACKEND=native

# Every part runs even when one fails; the exit status says whether all passed. Memory bounds on
# RSS are skipped by the tests themselves under ASan (its quarantine keeps freed memory); test
# timeouts are raised because everything runs several times slower instrumented.
status=0
if [ "$#" -gt 0 ]; then
  npx vitest run --testTimeout 900000 "$@" || status=1
else
  npx vitest run --testTimeout 900000 --exclude test/install.test.ts --exclude test/mnist.test.ts || status=1
  MINIBATCH_SIMD=avx2 npx vitest run --testTimeout 900000 test/kernels || status=1
  MINIBATCH_SIMD=scalar npx vitest run --testTimeout 900000 test/kernels || status=1
fi
if [ "$status" = 0 ]; then echo "sanitize.sh: every run passed, no sanitizer reports"; else echo "sanitize.sh: a run failed (see above)" >&2; fi
exit "$status"
