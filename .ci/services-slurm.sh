#!/usr/bin/env bash
# Localhost Slurm for the Slurm executor tests (src/executors/slurm/).
#
#   bash .ci/services-slurm.sh [start|stop|status]     # run it
#   source .ci/services-slurm.sh && slurm_services_start && trap slurm_services_stop EXIT
#
# start: installs Debian's slurm-wlm and slurmrestd when missing, writes a localhost slurm.conf into
# $OB_SLURM_DIR (default /tmp/openbatch-slurm) from the reference example plus the deltas the tests
# need (docs: distributed.md §A.1), starts slurmctld + slurmd, and slurmrestd twice (as `nobody`,
# openapi/v0.0.38 only because there is no slurmdbd): rest_auth/local on a unix socket and
# rest_auth/jwt on 127.0.0.1. It writes $OB_SLURM_DIR/env (KEY=value lines the tests read when the
# variables are not already exported) and exports the same variables when sourced:
#   SLURM_CONF, OB_SLURM_DIR, OB_SLURM_PARTITION, OB_SLURM_NODE, OB_SLURM_REST_SOCKET,
#   OB_SLURM_REST_URL, OB_SLURM_REST_USER, OB_SLURM_JWT, OB_SLURM_CGROUP (1 when OOM is enforced).
# stop: stops every daemon it started, by the PIDs it recorded. Nothing else is touched.

OB_SLURM_DIR="${OB_SLURM_DIR:-/tmp/openbatch-slurm}"
OB_SLURM_REST_PORT="${OB_SLURM_REST_PORT:-6820}"
# Overridable so that a second cluster (e.g. the bench's) can run beside this one.
OB_SLURMCTLD_PORT="${OB_SLURMCTLD_PORT:-6817}"
OB_SLURMD_PORT="${OB_SLURMD_PORT:-6818}"

_slurm_log() { echo "services-slurm: $*" >&2; }

_slurm_install() {
  local need=()
  command -v slurmctld >/dev/null 2>&1 || need+=(slurm-wlm)
  command -v slurmrestd >/dev/null 2>&1 || need+=(slurmrestd)
  if [ ${#need[@]} -gt 0 ]; then
    _slurm_log "installing ${need[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null && apt-get install -y -qq "${need[@]}" >/dev/null || {
      _slurm_log "apt-get install ${need[*]} failed; Slurm tests will skip"
      return 1
    }
  fi
}

_slurm_pid_alive() { [ -n "$1" ] && kill -0 "$1" 2>/dev/null; }

_slurm_wait_for() { # <seconds> <command...>
  local n=$(($1 * 10)); shift
  while [ $n -gt 0 ]; do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 0.1; n=$((n - 1))
  done
  return 1
}

_slurm_write_conf() {
  local D="$1" node="$2" cpus mem cgroup=0
  cpus=$(nproc)
  # slurmd -C reports RealMemory; keep a margin so the node never goes INVAL.
  mem=$(slurmd -C 2>/dev/null | sed -n 's/.*RealMemory=\([0-9]*\).*/\1/p' | head -1)
  mem=${mem:-4096}
  mem=$((mem * 3 / 4))
  [ "$mem" -gt 16000 ] && mem=16000
  if [ -d /sys/fs/cgroup/memory ] && [ -d /sys/fs/cgroup/freezer ]; then cgroup=1; fi

  mkdir -p "$D"/{state,spool,log,sock,work}
  chmod 755 "$D" "$D/state" "$D/spool" "$D/log"
  chmod 1777 "$D/sock" "$D/work"
  head -c 32 /dev/urandom >"$D/jwt_hs256.key"
  chmod 600 "$D/jwt_hs256.key"

  {
    echo "ClusterName=openbatch-ci"
    echo "SlurmctldHost=${node}(127.0.0.1)"
    echo "AuthType=auth/none"
    echo "CredType=cred/none"
    echo "AuthAltTypes=auth/jwt"
    echo "AuthAltParameters=jwt_key=$D/jwt_hs256.key"
    echo "SlurmUser=root"
    echo "SlurmdUser=root"
    echo "StateSaveLocation=$D/state"
    echo "SlurmdSpoolDir=$D/spool"
    echo "SlurmctldPidFile=$D/slurmctld.pid"
    echo "SlurmdPidFile=$D/slurmd.pid"
    echo "SlurmctldLogFile=$D/log/ctld.log"
    echo "SlurmdLogFile=$D/log/d.log"
    echo "GresTypes=gpu"
    if [ $cgroup = 1 ]; then
      echo "ProctrackType=proctrack/cgroup"
      echo "TaskPlugin=task/cgroup"
      echo "JobAcctGatherType=jobacct_gather/cgroup"
    else
      echo "ProctrackType=proctrack/linuxproc"
      echo "TaskPlugin=task/none"
      echo "JobAcctGatherType=jobacct_gather/none"
    fi
    echo "SelectType=select/cons_tres"
    echo "SelectTypeParameters=CR_CPU_Memory"
    echo "DefMemPerCPU=100"
    echo "SchedulerType=sched/builtin"
    echo "SchedulerParameters=sched_min_interval=0,default_queue_depth=10000,sched_interval=1"
    echo "MpiDefault=none"
    echo "ReturnToService=2"
    echo "SlurmctldPort=$OB_SLURMCTLD_PORT"
    echo "SlurmdPort=$OB_SLURMD_PORT"
    echo "AccountingStorageType=accounting_storage/none"
    echo "MaxJobCount=100000"
    echo "MaxArraySize=1001"
    echo "MinJobAge=300"
    echo "SlurmdTimeout=10"
    echo "KillWait=5"
    echo "NodeName=${node} NodeAddr=127.0.0.1 CPUs=${cpus} RealMemory=${mem} Gres=gpu:2 State=UNKNOWN"
    echo "PartitionName=main Nodes=${node} Default=YES MaxTime=INFINITE State=UP OverSubscribe=FORCE:64"
  } >"$D/slurm.conf"
  printf 'Name=gpu File=/dev/null\nName=gpu File=/dev/zero\n' >"$D/gres.conf"
  if [ $cgroup = 1 ]; then
    printf 'CgroupPlugin=cgroup/v1\nCgroupMountpoint=/sys/fs/cgroup\nConstrainRAMSpace=yes\nConstrainSwapSpace=yes\n' >"$D/cgroup.conf"
  fi
  chmod 644 "$D"/*.conf
  echo $cgroup >"$D/cgroup"
}

slurm_services_start() {
  _slurm_install || return 0
  local D="$OB_SLURM_DIR" node
  node=$(hostname -s)
  if [ -f "$D/slurmctld.pid" ] && _slurm_pid_alive "$(cat "$D/slurmctld.pid")"; then
    _slurm_log "already running in $D (stop it first to reconfigure)"
  else
    rm -rf "$D"
    mkdir -p "$D"
    _slurm_write_conf "$D" "$node"
    export SLURM_CONF="$D/slurm.conf"
    slurmctld -f "$D/slurm.conf" || { _slurm_log "slurmctld failed: $(tail -5 "$D/log/ctld.log")"; return 1; }
    _slurm_wait_for 20 scontrol ping || { _slurm_log "slurmctld does not answer"; return 1; }
    slurmd -f "$D/slurm.conf" || { _slurm_log "slurmd failed: $(tail -5 "$D/log/d.log")"; return 1; }
    _slurm_wait_for 30 bash -c "sinfo -h -N -o '%t' | grep -Eq '^(idle|mix|alloc)'" ||
      { _slurm_log "node did not come up: $(sinfo -h -N -o '%N %t %E'; tail -5 "$D/log/d.log")"; return 1; }

    # slurmrestd refuses root; it runs as nobody and needs the config readable (done above).
    nohup slurmrestd -f "$D/slurm.conf" -u nobody -a rest_auth/local -s openapi/v0.0.38 "unix:$D/sock/rest.sock" \
      >"$D/log/rest-local.log" 2>&1 &
    echo $! >"$D/slurmrestd-local.pid"
    SLURM_JWT=daemon nohup slurmrestd -f "$D/slurm.conf" -u nobody -a rest_auth/jwt -s openapi/v0.0.38 \
      "127.0.0.1:$OB_SLURM_REST_PORT" >"$D/log/rest-jwt.log" 2>&1 &
    echo $! >"$D/slurmrestd-jwt.pid"
    _slurm_wait_for 10 test -S "$D/sock/rest.sock" || _slurm_log "slurmrestd (local) did not start: $(tail -3 "$D/log/rest-local.log")"
  fi

  local jwt
  jwt=$(SLURM_CONF="$D/slurm.conf" scontrol token username=nobody lifespan=86400 2>/dev/null | sed -n 's/^SLURM_JWT=//p')
  {
    echo "SLURM_CONF=$D/slurm.conf"
    echo "OB_SLURM_DIR=$D"
    echo "OB_SLURM_PARTITION=main"
    echo "OB_SLURM_NODE=$node"
    echo "OB_SLURM_REST_SOCKET=$D/sock/rest.sock"
    echo "OB_SLURM_REST_URL=http://127.0.0.1:$OB_SLURM_REST_PORT"
    echo "OB_SLURM_REST_USER=nobody"
    echo "OB_SLURM_JWT=$jwt"
    echo "OB_SLURM_CGROUP=$(cat "$D/cgroup")"
  } >"$D/env"
  set -a
  # shellcheck source=/dev/null
  . "$D/env"
  set +a
  _slurm_log "up: $(sinfo -h -N -o '%N %t %c CPUs'), env in $D/env"
}

slurm_services_stop() {
  local D="$OB_SLURM_DIR" f pid
  [ -d "$D" ] || return 0
  for f in slurmrestd-local slurmrestd-jwt slurmd slurmctld; do
    [ -f "$D/$f.pid" ] || continue
    pid=$(cat "$D/$f.pid")
    if _slurm_pid_alive "$pid"; then
      kill "$pid" 2>/dev/null
      for _ in $(seq 1 50); do _slurm_pid_alive "$pid" || break; sleep 0.1; done
      _slurm_pid_alive "$pid" && kill -9 "$pid" 2>/dev/null
    fi
    rm -f "$D/$f.pid"
  done
  # slurmstepd processes of jobs still running die with their job; give them a moment.
  rm -f "$D/env"
  _slurm_log "stopped"
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  set -uo pipefail
  case "${1:-start}" in
    start) slurm_services_start ;;
    stop) slurm_services_stop ;;
    status) [ -f "$OB_SLURM_DIR/env" ] && cat "$OB_SLURM_DIR/env" && sinfo -h -N ;;
    *) echo "usage: $0 [start|stop|status]" >&2; exit 2 ;;
  esac
fi
