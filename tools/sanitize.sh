#!/bin/sh
# The sanitizer suite: configures BUILD (default build-asan) with AddressSanitizer + UndefinedBehaviorSanitizer
# (-DATTNLAB_SANITIZE=ON; LeakSanitizer is part of ASan and on by default), builds, and runs the whole ctest
# suite there. Leak reports of third-party global state are suppressed by tools/lsan.supp (HDF5, OpenBLAS,
# libgomp only). Usage: tools/sanitize.sh [BUILD]   env: JOBS (default: cores)
set -eu
cd "$(dirname "$0")/.."
B=${1:-build-asan}
J=${JOBS:-$(nproc 2>/dev/null || echo 2)}
ROOT=$(pwd)
cmake -S . -B "$B" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DATTNLAB_SANITIZE=ON -DATTNLAB_WERROR=ON >/dev/null
cmake --build "$B" -j "$J"
# exit codes of sanitizer reports are distinct from attnlab's own (0, 1, 2), so a test that expects exit 2
# cannot pass by accident; tests/CMakeLists.txt sets the same for ctest run by hand in a sanitizer build
export ASAN_OPTIONS="detect_leaks=1:exitcode=86:abort_on_error=0:detect_stack_use_after_return=0"
export LSAN_OPTIONS="suppressions=$ROOT/tools/lsan.supp:print_suppressions=0:exitcode=86"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:exitcode=87"
cd "$B" && ctest --output-on-failure -j "$J" --timeout 1800
