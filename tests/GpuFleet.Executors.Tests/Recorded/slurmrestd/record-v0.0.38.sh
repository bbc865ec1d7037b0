#!/usr/bin/env bash
# Records what a real slurmrestd (Debian 12's 22.05, plugin openapi/v0.0.38) answers, as raw HTTP
# responses (status line, headers, body), into v0.0.38/. Start a local Slurm with slurmrestd first:
#   LAB=... SLURMRESTD_PORT=... scripts/slurm-local.sh start; export SLURM_CONF=$LAB/etc/slurm.conf
# The cluster is put into the same kind of state as ../../Slurm/record.sh does (jobs finished in every
# way, running, pending, a heterogeneous job, drained and down nodes), and squeue/sinfo are recorded at
# the same moment as GET /jobs and GET /nodes, so that tests can compare what both transports read.
# Leaves nodes resumed and its jobs cancelled.   Usage: record-v0.0.38.sh [output dir]
set -uo pipefail
OUT=${1:-$(dirname "$0")/v0.0.38}
: "${SLURM_CONF:?start Slurm with scripts/slurm-local.sh (SLURMRESTD_PORT set) and export SLURM_CONF}"
ETC=$(dirname "$SLURM_CONF")
URL=$(cat "$ETC/slurmrestd.url")
TOKEN=$(cat "$ETC/slurmrestd.token")
V=v0.0.38
mkdir -p "$OUT"
export SLURM_TIME_FORMAT=%s
QUEUE='JobID:|,HetJobID:|,HetJobOffset:|,State:|,Reason:|,exit_code:|,StartTime:|,EndTime:|,tres-per-node:|,NodeList:|,Name:|'
NODES='NodeList:|,Gres:|,GresUsed:|,StateComplete:|,CPUs:|,Memory:|'

# One request; the raw response (headers with \r removed) to stdout.
rest() {
  local method=$1 path=$2 body=${3:-}
  local args=(-s -i -X "$method" -H "X-SLURM-USER-NAME: root" -H "X-SLURM-USER-TOKEN: $TOKEN")
  [ -n "$body" ] && args+=(-H "Content-Type: application/json" --data-binary "$body")
  curl "${args[@]}" "$URL$path" | sed 's/\r$//'
}
id_of() { sed -n 's/^  "job_id": \([0-9]*\),*$/\1/p'; }
# A job as GpuFleet's REST client submits it (v0.0.38 schema): one component per element of $2.
job() {
  local name=$1 nodes=$2 gpus=$3 limit=$4
  printf '{"name":"%s","comment":"tenant-a","time_limit":%s,"nodelist":"%s","nodes":%s,"gres":"gpu:%s","standard_output":"/dev/null","no_requeue":true,"current_working_directory":"/tmp","environment":{"PATH":"/usr/local/bin:/usr/bin:/bin"}}' \
    "$name" "$limit" "$nodes" "$(tr ',' '\n' <<< "$nodes" | wc -l)" "$gpus"
}
sub() { sbatch --parsable --no-requeue -o /dev/null "$@"; }

rest GET /openapi/v3 > "$OUT/openapi-v3.http"
ids=()
ids+=("$(sub -J gpufleet-901 --nodelist=n09 -N 1 --gres=gpu:1 -t 1 --wrap 'trap : USR1
sleep 300')")
e=$(sub -J gpufleet-902 --nodelist=n01 -N 1 --gres=gpu:1 -t 1 --wrap 'trap : USR1
exit 3'); ids+=("$e")
ids+=("$(sub -J gpufleet-903 --nodelist=n02,n03 -N 2 --gres=gpu:8 -t 1 --wrap 'trap : USR1
sleep 1')")
# Submitted through slurmrestd: an ordinary job and a heterogeneous one (12 GPUs as 8 + 4).
rest POST /slurm/$V/job/submit "{\"script\":\"#!/bin/sh\\ntrap : USR1\\nsleep 240\",\"job\":$(job gpufleet-904 n04 2 5)}" > "$OUT/submit.http"
ids+=("$(id_of < "$OUT/submit.http")")
rest POST /slurm/$V/job/submit "{\"script\":\"#!/bin/sh\\ntrap : USR1\\nsleep 240\",\"jobs\":[$(job gpufleet-907 n06 8 5),$(job gpufleet-907 n07 4 5)]}" > "$OUT/submit-hetjob.http"
ids+=("$(id_of < "$OUT/submit-hetjob.http")")
p=$(sub -J gpufleet-905 --nodelist=n10 -N 1 --gres=gpu:8 -t 5 --begin=now+3600 --wrap 'sleep 1'); ids+=("$p")
c=$(sub -J gpufleet-906 --nodelist=n10 -N 1 --gres=gpu:8 -t 5 --begin=now+3600 --wrap 'sleep 1'); ids+=("$c")
s=$(sub -J gpufleet-908 --nodelist=n14 -N 1 --gres=gpu:1 -t 5 --wrap 'sleep 240'); ids+=("$s")
f=$(sub -J gpufleet-909 --nodelist=n11 -N 1 --gres=gpu:4 -t 5 --wrap 'sleep 240'); ids+=("$f")
ids+=("$(sub -J 'train|big' --nodelist=n08 -N 1 --gres=gpu:3 -t 5 --wrap 'sleep 240')")
ids+=("$(sub -J gpufleet-910 --nodelist=n08 -N 1 --gres=gpu:2 -t 5 --wrap 'trap : USR1
sleep 240')")
ids+=("$(sub -J other-on-12 --nodelist=n12 -N 1 --gres=gpu:5 -t 5 --wrap 'sleep 240')")
k=$(sub -J gpufleet-911 --nodelist=n15 -N 1 --gres=gpu:1 -t 5 --wrap 'trap : USR1
sleep 240'); ids+=("$k")
# Refusals, each as slurmrestd answers them.
rest POST /slurm/$V/job/submit "{\"script\":\"#!/bin/sh\\ntrue\",\"job\":$(job gpufleet-912 n99 1 1)}" > "$OUT/submit-invalid-node.http"
rest POST /slurm/$V/job/submit "{\"script\":\"#!/bin/sh\\ntrue\",\"job\":$(job gpufleet-913 n01 9 1)}" > "$OUT/submit-too-many-gpus.http"
rest POST /slurm/$V/job/submit '{"script":"#!/bin/sh\ntrue","job":{"name":"gpufleet-914","requeue":false,"nodelist":"n01","bogus":1,"environment":{"PATH":"/bin"}}}' > "$OUT/submit-unknown-key.http"
# The same JSON with a charset in its Content-Type (what .NET's StringContent sends by default): refused.
curl -s -i -X POST -H "X-SLURM-USER-NAME: root" -H "X-SLURM-USER-TOKEN: $TOKEN" -H "Content-Type: application/json; charset=utf-8" \
  --data-binary "{\"script\":\"#!/bin/sh\\ntrue\",\"job\":$(job gpufleet-916 n13 1 1)}" "$URL/slurm/$V/job/submit" | sed 's/\r$//' > "$OUT/submit-charset.http"
rest DELETE "/slurm/$V/job/$c" > "$OUT/delete-pending.http"
# Jobs behind the heterogeneous one start from the backfill pass (up to 30 s).
for _ in $(seq 60); do [ "$(squeue -h -j "$s,$k" -o %T | sort -u)" = RUNNING ] && break; sleep 1; done
sleep 2
# A signal the job does not handle (no trap): FAILED, killed by signal 10. A cancel of a running job.
rest DELETE "/slurm/$V/job/$s?signal=USR1" > "$OUT/delete-signal.http"
rest DELETE "/slurm/$V/job/$k" > "$OUT/delete.http"
rest DELETE "/slurm/$V/job/$p?signal=USR1" > "$OUT/delete-signal-pending.http"
rest DELETE "/slurm/$V/job/$e?signal=USR1" > "$OUT/delete-signal-finished.http"
rest DELETE "/slurm/$V/job/999999" > "$OUT/delete-unknown-job.http"
scontrol update nodename=n11 state=down reason=broken
scontrol update nodename=n05 state=drain reason=test
scontrol update nodename=n12 state=drain reason=maint
for _ in $(seq 60); do
  squeue -h -t all -j "${ids[0]}" -O State | grep -q TIMEOUT && squeue -h -n gpufleet-907 -O State | grep -q RUNNING && break
  sleep 5
done
# The same moment through both transports: again until squeue reads the same before and after.
for _ in $(seq 10); do
  before=$(squeue -h -a --states=all -O "$QUEUE")
  rest GET /slurm/$V/jobs > "$OUT/jobs.http"
  after=$(squeue -h -a --states=all -O "$QUEUE")
  [ "$before" = "$after" ] && break
done
printf '%s\n' "$after" > "$OUT/squeue-states.out"
# Down just before listing: with ReturnToService=2 its slurmd brings it back within seconds.
scontrol update nodename=n13 state=down reason=dead
for _ in $(seq 10); do
  before=$(sinfo -h -a -N -O "$NODES")
  rest GET /slurm/$V/nodes > "$OUT/nodes.http"
  after=$(sinfo -h -a -N -O "$NODES")
  [ "$before" = "$after" ] && break
done
printf '%s\n' "$after" > "$OUT/sinfo-nodes.out"
# Nothing changed since: 304. Accounting is not served without slurmdbd: 404.
rest GET "/slurm/$V/jobs?update_time=$(( $(date +%s) + 60 ))" > "$OUT/jobs-not-modified.http"
rest GET /slurmdb/$V/jobs > "$OUT/slurmdb-jobs.http"
# Authentication: no user name (401), and a token slurmctld refuses (its answer to any request).
curl -s -i -H "X-SLURM-USER-TOKEN: $TOKEN" "$URL/slurm/$V/jobs" | sed 's/\r$//' > "$OUT/jobs-unauthorized.http"
TOKEN=not-a-token rest GET /slurm/$V/jobs > "$OUT/jobs-bad-token.http"
# A slurmrestd whose controller does not answer (nothing listens on its port).
dead=$(mktemp -d); chmod 755 "$dead"
sed 's/^SlurmctldPort=.*/SlurmctldPort=1/' "$SLURM_CONF" > "$dead/slurm.conf"
port=$(( ${URL##*:} + 1 ))
SLURM_JWT=daemon setsid slurmrestd -f "$dead/slurm.conf" -a rest_auth/jwt -s openapi/$V -u nobody -g nogroup "127.0.0.1:$port" > "$dead/log" 2>&1 &
pid=$!
for _ in $(seq 50); do curl -s -o /dev/null "http://127.0.0.1:$port/openapi/v3" && break; sleep 0.2; done
URL=http://127.0.0.1:$port rest GET /slurm/$V/jobs > "$OUT/jobs-unreachable.http"
URL=http://127.0.0.1:$port rest POST /slurm/$V/job/submit "{\"script\":\"#!/bin/sh\\ntrue\",\"job\":$(job gpufleet-915 n01 1 1)}" > "$OUT/submit-unreachable.http"
kill "$pid"; wait "$pid" 2>/dev/null; rm -rf "$dead"
scancel "${ids[@]}"
scontrol update nodename=n05,n11,n12,n13 state=resume 2>/dev/null
true
