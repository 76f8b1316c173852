#!/usr/bin/env bash
# Installs the system packages `npm run bench` compares against (Debian, as root):
#   - slurm-wlm: slurmctld/slurmd/sbatch/squeue for the Slurm baseline (the bench starts its own
#     one-node localhost cluster in a temp dir and stops it; nothing is enabled as a service);
#   - a C compiler for the posix_spawn floor (usually already there for the native launcher).
# moto (the API baseline) is a Python package, expected installed for python3; the bench skips it
# with a "skipped: <why>" row when it is not. Never fails the caller: a missing baseline is a
# skipped row, not a broken build.
set -uo pipefail

export DEBIAN_FRONTEND=noninteractive
need=()
command -v sbatch >/dev/null 2>&1 && command -v slurmctld >/dev/null 2>&1 || need+=(slurm-wlm)
command -v cc >/dev/null 2>&1 || need+=(gcc libc6-dev)

if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "bench-deps: need root to install ${need[*]}; the bench will skip what is missing" >&2
    exit 0
  fi
  echo "bench-deps: installing ${need[*]}" >&2
  if ! { apt-get update -qq && apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null; }; then
    echo "bench-deps: apt-get install ${need[*]} failed; the bench will skip what is missing" >&2
  fi
fi

if ! python3 -c 'import moto.server' >/dev/null 2>&1; then
  echo "bench-deps: python3 cannot import moto.server; the API baseline will be skipped" >&2
fi
exit 0
