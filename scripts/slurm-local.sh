#!/usr/bin/env bash
# A real Slurm on localhost for comparisons and the tests: 16 nodes x 8 fake GPUs declared through
# GRES (each node 32 CPUs and 2,000 GB, as declared, whatever the machine has), its own munge, everything under $LAB, listening on 127.0.0.1 only. Installs Debian's
# slurmctld, slurmd, slurm-client, slurm-wlm-basic-plugins and munge when missing (as root).
#   scripts/slurm-local.sh start   # then: export SLURM_CONF=$LAB/etc/slurm.conf
#   scripts/slurm-local.sh stop
#   scripts/slurm-local.sh controller-stop | controller-start   # an outage of slurmctld alone
# NODES (default 16) sets the cluster's size. SLURM_PORT (slurmctld, default 16817) and
# SLURMD_PORT_BASE (node nN listens on base+N, default 17000) let two clusters run side by side,
# e.g. one for CI next to one for benchmarks.
# SLURM_SCHEDULER_PARAMETERS becomes slurm.conf's SchedulerParameters (e.g. a tuned backfill). Unset, it is
# what GpuFleet asks of a site that takes uneven placements (docs/executors.md): a backfill pass every
# 5 s (only backfill starts heterogeneous jobs, and one pass starts one of several on shared nodes),
# their components kept together in its order and started as soon as all fit. Set it empty for Slurm's
# own defaults.
# Every finished job is recorded in $LAB/log/jobcomp.txt (jobcomp/filetxt).
# SLURMRESTD_PORT, when set, also starts slurmrestd (Slurm's REST API) on 127.0.0.1:$SLURMRESTD_PORT
# with JWT authentication (installing slurmrestd and slurm-wlm-jwt-plugin when missing): its URL is
# written to $LAB/etc/slurmrestd.url and a token for root to $LAB/etc/slurmrestd.token.
set -euo pipefail
LAB=${LAB:-/tmp/gpufleet-slurm}
NODES=${NODES:-16}
SLURM_PORT=${SLURM_PORT:-16817}
SLURMD_PORT_BASE=${SLURMD_PORT_BASE:-17000}
SLURMRESTD_PORT=${SLURMRESTD_PORT:-}
PACKAGES=(slurmctld slurmd slurm-client slurm-wlm-basic-plugins munge)
[ -n "$SLURMRESTD_PORT" ] && PACKAGES+=(slurmrestd slurm-wlm-jwt-plugin curl)
# How long the token written for slurmrestd stays valid: longer than any test run.
SLURMRESTD_TOKEN_SECONDS=${SLURMRESTD_TOKEN_SECONDS:-86400}

install_missing() {
  local missing=() p
  for p in "${PACKAGES[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  [ "$(id -u)" = 0 ] || { echo "${missing[*]} not installed; run as root once to install them" >&2; exit 1; }
  # The packages' maintainer scripts would start the system-wide daemons: forbid that during the
  # install with a policy-rc.d, only if there is none, and remove only the one made here.
  local policy=""
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    policy=/usr/sbin/policy-rc.d
    printf '#!/bin/sh\nexit 101\n' > "$policy"; chmod +x "$policy"
  fi
  local status=0
  { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >/dev/null; } || status=$?
  [ -n "$policy" ] && rm -f "$policy"
  [ $status -eq 0 ] || { echo "installing ${missing[*]} failed" >&2; exit 1; }
}

# slurmrestd refuses to run as root or as SlurmUser: it binds its port, then drops to nobody. Without
# slurmdbd it must load only the slurmctld plugin (the slurmdbd one stops it at start): the newest
# openapi/slurmctld where there is one (Slurm 23.11+), else the newest openapi/v0.0.N (22.05: v0.0.38).
start_slurmrestd() {
  local dir plugin
  dir=$(scontrol show config | awk '$1=="PluginDir"{print $3}')
  if [ -e "$dir/openapi_slurmctld.so" ]; then plugin=openapi/slurmctld
  else plugin=$(find "$dir" -name 'openapi_v0_0_*.so' -printf '%f\n' | sort -V | tail -1 | sed 's/^openapi_v\(.*\)\.so$/openapi\/v\1/; s/_/./g')
  fi
  [ -n "$plugin" ] || { echo "no slurmrestd openapi plugin found in $dir" >&2; exit 1; }
  # SLURM_JWT=daemon: slurmrestd talks to slurmctld with the JWT of each request, not with munge.
  SLURM_JWT=daemon setsid slurmrestd -f "$LAB/etc/slurm.conf" -a rest_auth/jwt -s "$plugin" -u nobody -g nogroup \
    "127.0.0.1:$SLURMRESTD_PORT" > "$LAB/log/slurmrestd.log" 2>&1 &
  echo $! > "$LAB/run/slurmrestd.setsid"
  local token up=0
  token=$(scontrol token username=root lifespan="$SLURMRESTD_TOKEN_SECONDS")
  token=${token#SLURM_JWT=}
  ( umask 077; printf '%s\n' "$token" > "$LAB/etc/slurmrestd.token" )
  for _ in $(seq 50); do
    curl -sf -o /dev/null -H "X-SLURM-USER-NAME: root" -H "X-SLURM-USER-TOKEN: $token" \
      "http://127.0.0.1:$SLURMRESTD_PORT/openapi/v3" && { up=1; break; }
    sleep 0.2
  done
  if [ "$up" = 0 ]; then
    echo "slurmrestd did not answer on 127.0.0.1:$SLURMRESTD_PORT; log in $LAB/log/slurmrestd.log" >&2
    tail -5 "$LAB/log/slurmrestd.log" >&2 || true
    exit 1
  fi
  echo "http://127.0.0.1:$SLURMRESTD_PORT" > "$LAB/etc/slurmrestd.url"
  echo "slurmrestd ($plugin) on http://127.0.0.1:$SLURMRESTD_PORT"
}

start_controller() {
  setsid slurmctld -D -f "$LAB/etc/slurm.conf" >> "$LAB/log/slurmctld.out" 2>&1 &
  echo $! > "$LAB/run/slurmctld.setsid"
}

case "${1:-start}" in
start)
  install_missing
  # A fresh cluster each time: no jobs left over from an earlier run.
  rm -rf "$LAB/state" "$LAB/spool" "$LAB/log/jobcomp.txt" "$LAB/etc/slurmrestd.url" "$LAB/etc/slurmrestd.token"
  mkdir -p "$LAB"/{etc,munge,log,spool,state,fakedev,run}
  for i in 0 1 2 3 4 5 6 7; do : > "$LAB/fakedev/nvidia$i"; done
  [ -f "$LAB/munge/munge.key" ] || { dd if=/dev/urandom of="$LAB/munge/munge.key" bs=1024 count=1 status=none; chmod 400 "$LAB/munge/munge.key"; }
  chmod 700 "$LAB/munge"
  setsid munged --foreground --force --key-file="$LAB/munge/munge.key" --socket="$LAB/munge/munge.socket.2" \
    --pid-file="$LAB/run/munged.pid" --log-file="$LAB/log/munged.log" --seed-file="$LAB/munge/seed" > /dev/null 2>&1 &
  echo $! > "$LAB/run/munged.setsid"
  for _ in $(seq 50); do [ -S "$LAB/munge/munge.socket.2" ] && break; sleep 0.1; done
  host=$(hostname -s)
  # The key slurmctld checks slurmrestd's tokens with (HS256).
  if [ -n "$SLURMRESTD_PORT" ] && [ ! -f "$LAB/etc/jwt.key" ]; then
    dd if=/dev/urandom of="$LAB/etc/jwt.key" bs=32 count=1 status=none; chmod 600 "$LAB/etc/jwt.key"
  fi
  {
    echo "ClusterName=gpufleet"
    echo "SlurmctldHost=$host(127.0.0.1)"
    echo "SlurmctldPort=$SLURM_PORT"
    echo "AuthType=auth/munge"
    echo "AuthInfo=socket=$LAB/munge/munge.socket.2"
    echo "CredType=cred/munge"
    if [ -n "$SLURMRESTD_PORT" ]; then
      echo "AuthAltTypes=auth/jwt"
      echo "AuthAltParameters=jwt_key=$LAB/etc/jwt.key"
    fi
    echo "SlurmUser=root"
    echo "SlurmdUser=root"
    echo "StateSaveLocation=$LAB/state"
    echo "SlurmdSpoolDir=$LAB/spool/slurmd-%n"
    echo "SlurmctldPidFile=$LAB/run/slurmctld.pid"
    echo "SlurmdPidFile=$LAB/run/slurmd-%n.pid"
    echo "SlurmctldLogFile=$LAB/log/slurmctld.log"
    echo "SlurmdLogFile=$LAB/log/slurmd-%n.log"
    echo "ProctrackType=proctrack/pgid"
    echo "TaskPlugin=task/none"
    echo "SelectType=select/cons_tres"
    echo "SelectTypeParameters=CR_Core"
    echo "SchedulerType=sched/backfill"
    parameters=${SLURM_SCHEDULER_PARAMETERS-bf_interval=5,bf_hetjob_prio=min,bf_hetjob_immediate}
    [ -n "$parameters" ] && echo "SchedulerParameters=$parameters"
    echo "ReturnToService=2"
    echo "MaxJobCount=50000"
    echo "MpiDefault=none"
    echo "GresTypes=gpu"
    echo "SlurmdParameters=config_overrides"
    echo "AccountingStorageType=accounting_storage/none"
    # Slurm's own record of every finished job (start, end, nodes, GRES) without a database: what
    # GpuFleet's accounting is checked against, and what comparisons read.
    echo "JobCompType=jobcomp/filetxt"
    echo "JobCompLoc=$LAB/log/jobcomp.txt"
    for n in $(seq -f %02g 1 "$NODES"); do
      echo "NodeName=n$n NodeHostname=$host NodeAddr=127.0.0.1 Port=$((SLURMD_PORT_BASE + 10#$n)) CPUs=32 Boards=1 SocketsPerBoard=1 CoresPerSocket=32 ThreadsPerCore=1 RealMemory=2048000 Gres=gpu:8 State=UNKNOWN"
    done
    echo "PartitionName=gpu Nodes=ALL Default=YES MaxTime=INFINITE State=UP"
  } > "$LAB/etc/slurm.conf"
  printf 'AutoDetect=off\nNodeName=n[01-%02d] Name=gpu File=%s/fakedev/nvidia[0-7]\n' "$NODES" "$LAB" > "$LAB/etc/gres.conf"
  start_controller
  for n in $(seq -f %02g 1 "$NODES"); do
    setsid slurmd -D -f "$LAB/etc/slurm.conf" -N "n$n" > "$LAB/log/slurmd-n$n.out" 2>&1 &
    echo $! > "$LAB/run/slurmd-n$n.setsid"
  done
  export SLURM_CONF="$LAB/etc/slurm.conf"
  for _ in $(seq 100); do
    idle=$(sinfo -h -o '%t %D' 2>/dev/null | awk '$1=="idle"{s+=$2} END{print s+0}')
    [ "$idle" -ge "$NODES" ] && break
    sleep 0.3
  done
  sinfo
  if [ "$idle" -lt "$NODES" ]; then
    echo "only $idle of $NODES nodes came up; logs in $LAB/log" >&2
    tail -5 "$LAB/log/slurmctld.log" >&2 || true
    exit 1
  fi
  [ -n "$SLURMRESTD_PORT" ] && start_slurmrestd
  echo "export SLURM_CONF=$LAB/etc/slurm.conf"
  ;;
stop)
  # Cancel every job first, so that no job step outlives the daemons.
  export SLURM_CONF="$LAB/etc/slurm.conf"
  scancel --quiet --full --partition=gpu 2>/dev/null || true
  for _ in $(seq 50); do [ "$(squeue -h 2>/dev/null | wc -l)" -eq 0 ] && break; sleep 0.2; done
  for f in "$LAB"/run/slurmrestd.setsid "$LAB"/run/slurmd-*.setsid "$LAB"/run/slurmctld.setsid "$LAB"/run/munged.setsid; do
    [ -f "$f" ] && kill "$(cat "$f")" 2>/dev/null || true
  done
  # Wait for them to exit (5 s at most), then kill what is left; afterwards nothing writes under $LAB.
  for _ in $(seq 50); do
    alive=0
    for f in "$LAB"/run/*.setsid; do [ -f "$f" ] && kill -0 "$(cat "$f")" 2>/dev/null && alive=1; done
    [ "$alive" = 0 ] && break
    sleep 0.1
  done
  for f in "$LAB"/run/*.setsid; do [ -f "$f" ] && kill -9 "$(cat "$f")" 2>/dev/null || true; rm -f "$f"; done
  ;;
controller-stop)
  # slurmctld alone, as in an outage: slurmd keeps running its jobs, and state is saved for the restart.
  f="$LAB/run/slurmctld.setsid"
  [ -f "$f" ] && kill "$(cat "$f")" 2>/dev/null || true
  for _ in $(seq 100); do kill -0 "$(cat "$f")" 2>/dev/null || break; sleep 0.1; done
  ;;
controller-start)
  start_controller
  export SLURM_CONF="$LAB/etc/slurm.conf"
  for _ in $(seq 100); do scontrol ping 2>/dev/null | grep -q UP && break; sleep 0.2; done
  scontrol ping | grep -q UP
  ;;
esac
