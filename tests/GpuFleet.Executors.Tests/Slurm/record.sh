#!/usr/bin/env bash
# Records the Slurm tools' output that SlurmOutputTests read, from a local Slurm started with
# scripts/slurm-local.sh (16 nodes x 8 GPUs, no accounting). Needs SLURM_CONF; leaves nodes resumed
# and its jobs cancelled. The formats are SlurmOutput's.   Usage: record.sh [output dir]
set -uo pipefail
OUT=${1:-$(dirname "$0")}
: "${SLURM_CONF:?start Slurm with scripts/slurm-local.sh and export SLURM_CONF}"
export SLURM_TIME_FORMAT=%s
QUEUE='JobID:|,HetJobID:|,HetJobOffset:|,State:|,Reason:|,exit_code:|,StartTime:|,EndTime:|,tres-per-node:|,NodeList:|,Name:|'
NODES='NodeList:|,Gres:|,GresUsed:|,StateComplete:|'
sub() { sbatch --parsable --no-requeue -o /dev/null "$@"; }
ids=()
# A job that runs past its 1-minute limit: TIMEOUT about a minute later.
ids+=("$(sub -J gpufleet-901 --nodelist=n09 -N 1 --gres=gpu:1 -t 1 --wrap 'trap : USR1
sleep 300')")
ids+=("$(sub -J gpufleet-902 --nodelist=n01 -N 1 --gres=gpu:1 -t 1 --wrap 'trap : USR1
exit 3')")
ids+=("$(sub -J gpufleet-903 --nodelist=n02,n03 -N 2 --gres=gpu:8 -t 1 --wrap 'trap : USR1
sleep 1')")
ids+=("$(sub -J gpufleet-904 --nodelist=n04 -N 1 --gres=gpu:2 -t 5 --wrap 'trap : USR1
sleep 240')")
# Never starts (begins in an hour); another is cancelled while pending.
ids+=("$(sub -J gpufleet-905 --nodelist=n10 -N 1 --gres=gpu:8 -t 5 --begin=now+3600 --wrap 'sleep 1')")
c=$(sub -J gpufleet-906 --nodelist=n10 -N 1 --gres=gpu:8 -t 5 --begin=now+3600 --wrap 'sleep 1'); ids+=("$c")
# 12 GPUs as 8 + 4: a heterogeneous job.
ids+=("$(sub -J gpufleet-907 -t 5 --nodelist=n06 -N 1 --gres=gpu:8 : --nodelist=n07 -N 1 --gres=gpu:4 --wrap 'trap : USR1
sleep 240')")
# Killed by a checkpoint signal it does not handle (no trap): FAILED with signal 10.
s=$(sub -J gpufleet-908 --nodelist=n14 -N 1 --gres=gpu:1 -t 5 --wrap 'sleep 240'); ids+=("$s")
# Its node goes down while it runs: NODE_FAIL.
f=$(sub -J gpufleet-909 --nodelist=n11 -N 1 --gres=gpu:4 -t 5 --wrap 'sleep 240'); ids+=("$f")
# Others' jobs: GPUs on n08 next to one of GpuFleet's, and a name with a '|' in it.
ids+=("$(sub -J 'train|big' --nodelist=n08 -N 1 --gres=gpu:3 -t 5 --wrap 'sleep 240')")
ids+=("$(sub -J gpufleet-910 --nodelist=n08 -N 1 --gres=gpu:2 -t 5 --wrap 'trap : USR1
sleep 240')")
ids+=("$(sub -J other-on-12 --nodelist=n12 -N 1 --gres=gpu:5 -t 5 --wrap 'sleep 240')")
scancel "$c"
sleep 5
scancel --signal=USR1 --full "$s"
scontrol update nodename=n11 state=down reason=broken
scontrol update nodename=n05 state=drain reason=test
scontrol update nodename=n12 state=drain reason=maint
# The heterogeneous job starts from the backfill pass (30 s), the timeout comes after a minute.
for _ in $(seq 60); do
  squeue -h -t all -j "${ids[0]}" -O State | grep -q TIMEOUT && squeue -h -n gpufleet-907 -O State | grep -q RUNNING && break
  sleep 5
done
squeue -h -a --states=all -O "$QUEUE" > "$OUT/squeue-states.out"
# Down just before listing: with ReturnToService=2 its slurmd brings it back within seconds.
scontrol update nodename=n13 state=down reason=dead
sinfo -h -a -N -O "$NODES" > "$OUT/sinfo-nodes.out"
squeue -h -a -n gpufleet-907 -o %i > "$OUT/squeue-ids-hetjob.out"
# Errors, each as the tool prints them on stderr.
sacct -n -P -X --allusers -j "${ids[0]}" -o JobID,State,ExitCode,Start,End,NodeList,JobName 2> "$OUT/sacct-disabled.err"
sbatch --parsable -J gpufleet-911 --nodelist=n99 -N 1 --gres=gpu:1 -t 1 -o /dev/null --wrap true 2> "$OUT/sbatch-invalid-node.err"
sbatch --parsable -J gpufleet-912 --nodelist=n01 -N 1 --gres=gpu:9 -t 1 -o /dev/null --wrap true 2> "$OUT/sbatch-too-many-gpus.err"
scancel --signal=USR1 --full "${ids[4]}" 2> "$OUT/scancel-signal-pending.err"
scancel --signal=USR1 --full "${ids[1]}" 2> "$OUT/scancel-signal-finished.err"
# A controller that does not answer (nothing listens on its port) and a munge that is not there.
dead=$(mktemp -d)
sed 's/^SlurmctldPort=.*/SlurmctldPort=1/' "$SLURM_CONF" > "$dead/slurm.conf"
SLURM_CONF=$dead/slurm.conf squeue -h -O "$QUEUE" 2> "$OUT/squeue-unreachable.err"
SLURM_CONF=$dead/slurm.conf sbatch --parsable -J gpufleet-913 -N 1 -t 1 -o /dev/null --wrap true 2> "$OUT/sbatch-unreachable.err"
sed 's#^AuthInfo=.*#AuthInfo=socket=/nonexistent/munge.socket#' "$SLURM_CONF" > "$dead/slurm.conf"
SLURM_CONF=$dead/slurm.conf sbatch --parsable -J gpufleet-914 -N 1 -t 1 -o /dev/null --wrap true 2> "$OUT/sbatch-no-munge.err"
rm -rf "$dead"
scancel "${ids[@]}"
scontrol update nodename=n05,n11,n12,n13 state=resume 2>/dev/null
true
