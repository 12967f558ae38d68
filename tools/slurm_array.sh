#!/bin/sh
# An experiment spec as a Slurm job array: task i of N runs `attnlab run SPEC -o OUT.shards/i --shard i/N`, and a
# job that starts when every task has ended well merges the shards into OUT (`attnlab merge`). The merged folder
# holds the bytes of one `attnlab run SPEC -o OUT` (docs/experiments.md, "Clusters").
#   tools/slurm_array.sh SPEC OUT N [sbatch options...]   submits the array and the merge job (needs sbatch)
#   tools/slurm_array.sh --local SPEC OUT N               runs the same tasks here, one after another
# ATTNLAB names the binary (default: attnlab on PATH). A task that fails can be resubmitted alone
# (sbatch --array=i ...): its folder resumes, skipping finished units.
set -eu
local=0
if [ "${1:-}" = "--local" ]; then local=1; shift; fi
if [ $# -lt 3 ]; then
  echo "usage: $0 [--local] SPEC OUT N [sbatch options...]" >&2
  exit 2
fi
spec=$1 out=$2 n=$3
shift 3
bin=${ATTNLAB:-attnlab}
case $n in '' | *[!0-9]* | 0) echo "$0: N must be a positive integer (got '$n')" >&2; exit 2 ;; esac
shards="$out.shards"
mkdir -p "$shards"
if [ $local = 1 ]; then
  i=0
  while [ $i -lt "$n" ]; do
    "$bin" run "$spec" -o "$shards/$i" --shard "$i/$n" -q
    i=$((i + 1))
  done
  list=$(i=0; while [ $i -lt "$n" ]; do printf '%s ' "$shards/$i"; i=$((i + 1)); done)
  # shellcheck disable=SC2086
  exec "$bin" merge $list -o "$out" -q
fi
command -v sbatch >/dev/null || { echo "$0: sbatch not found (use --local to run the tasks here)" >&2; exit 2; }
array=$(sbatch --parsable --array="0-$((n - 1))" --job-name=attnlab-shard "$@" \
  --wrap="'$bin' run '$spec' -o '$shards/'\$SLURM_ARRAY_TASK_ID --shard \$SLURM_ARRAY_TASK_ID/$n -q")
list=$(i=0; while [ $i -lt "$n" ]; do printf "'%s' " "$shards/$i"; i=$((i + 1)); done)
sbatch --parsable --dependency="afterok:$array" --job-name=attnlab-merge "$@" --wrap="'$bin' merge $list -o '$out' -q"
echo "submitted array job $array ($n tasks) and its merge into $out"
