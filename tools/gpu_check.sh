#!/usr/bin/env bash
# GPU check, run on a machine with an NVIDIA GPU and nvcc but no network: builds engine with the
# CUDA kernels required, then runs the CUDA tests, the native tests and any bench/gpu_*.py.
# Usage: tools/gpu_check.sh [OUTPUT_DIR]   (default: $OUT). Logs land in OUTPUT_DIR; the exit
# status is non-zero when any step failed, but every step runs.
set -uo pipefail
cd "$(dirname "$0")/.."

out="${1:-${OUT:-}}"
if [[ -z "${out}" ]]; then
  echo "usage: tools/gpu_check.sh OUTPUT_DIR (or set OUT)" >&2
  exit 2
fi
mkdir -p "${out}"
out="$(cd "${out}" && pwd)"
status=0

step() {  # step NAME CMD...: run CMD, log to OUTPUT_DIR/NAME.log, remember a failure
  local name="$1"
  shift
  echo "== ${name}: $*" | tee -a "${out}/summary.txt"
  local start=${SECONDS}
  "$@" >"${out}/${name}.log" 2>&1
  local rc=$?
  echo "   rc=${rc} (${name}, $((SECONDS - start)) s)" | tee -a "${out}/summary.txt"
  tail -n 3 "${out}/${name}.log" | sed 's/^/   /'
  [[ ${rc} -eq 0 ]] || status=1
  return ${rc}
}

: >"${out}/summary.txt"
step nvidia-smi nvidia-smi
step nvcc nvcc --version
step env bash -c 'python --version; pip list 2>/dev/null; echo; env | grep -E "^(CUDA|PATH|LD_)" || true'

# No network there: build with the tools already installed instead of an isolated build env.
if ! step install env ENGINE_WITH_CUDA=1 pip install --no-build-isolation -v -e .; then
  echo "install failed; see ${out}/install.log" >&2
  exit 1
fi
# engine.distributed's GPU tests need mpi4py and the mpich wheel, which the device image lacks
# and cannot download: carry them in ./wheelhouse (ignored by git), made here with
#   pip download -d wheelhouse --only-binary=:all: --python-version 3.X mpi4py mpich
if [[ -d wheelhouse ]]; then
  step mpi-wheels pip install --no-index --find-links wheelhouse mpi4py mpich
fi
step with-cuda python -c "import engine._C as C; print('with_cuda', C.with_cuda()); assert C.with_cuda()"
# pytest exits 5 when no test carries the marker; that is not a failure of the GPU path.
step pytest-cuda bash -c 'python -m pytest -q -rs -m cuda tests; rc=$?; [[ $rc -eq 5 ]] && rc=0; exit $rc'
step pytest-native python -m pytest -q -rs tests/test_native.py

shopt -s nullglob
for bench in bench/gpu_*.py; do
  step "bench-$(basename "${bench}" .py)" python "${bench}"
done

echo "gpu_check: status ${status}; logs in ${out}" | tee -a "${out}/summary.txt"
exit ${status}
