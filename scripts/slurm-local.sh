#!/usr/bin/env bash
# A real Slurm on localhost for comparisons: 16 nodes x 8 fake GPUs declared through GRES, its own
# munge, everything under $LAB, listening on 127.0.0.1 only. Needs Debian's slurmctld, slurmd,
# slurm-client, slurm-wlm-basic-plugins and munge.
#   scripts/slurm-local.sh start   # then: export SLURM_CONF=$LAB/etc/slurm.conf
#   scripts/slurm-local.sh stop
set -euo pipefail
LAB=${LAB:-/tmp/gpufleet-slurm}
NODES=${NODES:-16}
case "${1:-start}" in
start)
  # A fresh cluster each time: no jobs left over from an earlier run.
  rm -rf "$LAB/state" "$LAB/spool"
  mkdir -p "$LAB"/{etc,munge,log,spool,state,fakedev,run}
  for i in 0 1 2 3 4 5 6 7; do : > "$LAB/fakedev/nvidia$i"; done
  [ -f "$LAB/munge/munge.key" ] || { dd if=/dev/urandom of="$LAB/munge/munge.key" bs=1024 count=1 status=none; chmod 400 "$LAB/munge/munge.key"; }
  chmod 700 "$LAB/munge"
  setsid munged --foreground --force --key-file="$LAB/munge/munge.key" --socket="$LAB/munge/munge.socket.2" \
    --pid-file="$LAB/run/munged.pid" --log-file="$LAB/log/munged.log" --seed-file="$LAB/munge/seed" > /dev/null 2>&1 &
  echo $! > "$LAB/run/munged.setsid"
  for _ in $(seq 50); do [ -S "$LAB/munge/munge.socket.2" ] && break; sleep 0.1; done
  host=$(hostname -s)
  {
    echo "ClusterName=gpufleet"
    echo "SlurmctldHost=$host(127.0.0.1)"
    echo "SlurmctldPort=16817"
    echo "AuthType=auth/munge"
    echo "AuthInfo=socket=$LAB/munge/munge.socket.2"
    echo "CredType=cred/munge"
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
    echo "ReturnToService=2"
    echo "MaxJobCount=50000"
    echo "MpiDefault=none"
    echo "GresTypes=gpu"
    echo "SlurmdParameters=config_overrides"
    echo "AccountingStorageType=accounting_storage/none"
    echo "JobCompType=jobcomp/none"
    for n in $(seq -w 1 "$NODES"); do
      echo "NodeName=n$n NodeHostname=$host NodeAddr=127.0.0.1 Port=$((17000 + 10#$n)) CPUs=32 Boards=1 SocketsPerBoard=1 CoresPerSocket=32 ThreadsPerCore=1 RealMemory=1000 Gres=gpu:8 State=UNKNOWN"
    done
    echo "PartitionName=gpu Nodes=ALL Default=YES MaxTime=INFINITE State=UP"
  } > "$LAB/etc/slurm.conf"
  printf 'AutoDetect=off\nNodeName=n[01-%s] Name=gpu File=%s/fakedev/nvidia[0-7]\n' "$NODES" "$LAB" > "$LAB/etc/gres.conf"
  setsid slurmctld -D -f "$LAB/etc/slurm.conf" > "$LAB/log/slurmctld.out" 2>&1 &
  echo $! > "$LAB/run/slurmctld.setsid"
  for n in $(seq -w 1 "$NODES"); do
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
  echo "export SLURM_CONF=$LAB/etc/slurm.conf"
  ;;
stop)
  # Cancel every job first, so that no job step outlives the daemons.
  export SLURM_CONF="$LAB/etc/slurm.conf"
  scancel --quiet --full --partition=gpu 2>/dev/null || true
  for _ in $(seq 50); do [ "$(squeue -h 2>/dev/null | wc -l)" -eq 0 ] && break; sleep 0.2; done
  for f in "$LAB"/run/slurmd-*.setsid "$LAB"/run/slurmctld.setsid "$LAB"/run/munged.setsid; do
    [ -f "$f" ] && kill "$(cat "$f")" 2>/dev/null || true
  done
  sleep 1
  for f in "$LAB"/run/*.setsid; do [ -f "$f" ] && kill -9 "$(cat "$f")" 2>/dev/null || true; rm -f "$f"; done
  ;;
esac
