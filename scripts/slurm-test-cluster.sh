#!/usr/bin/env bash
# A throwaway one-node Slurm cluster on loopback, for the Slurm engine's tests (and for trying the README's
# "Running on a cluster" commands on one machine).
#
#   scripts/slurm-test-cluster.sh up DIR      start munged, slurmctld and slurmd with all state in DIR;
#                                             prints the line `export SLURM_CONF=DIR/etc/slurm.conf`
#   scripts/slurm-test-cluster.sh down DIR    stop the daemons started by `up DIR` (by their recorded pids) and
#                                             remove DIR
#   scripts/slurm-test-cluster.sh check       exit 0 when the Debian packages are installed, else say what is missing
#
# Needs Debian's `slurmctld slurmd slurm-client munge` (make test installs them when run as root). Nothing here
# touches a system Slurm or munge: the munged has its own key and socket, the daemons their own ports, state and
# spool folders, so several clusters (one per test run) can run side by side. Every wait is bounded.
#
# Facts this relies on (found on Debian 12 with Slurm 22.05): clients need SLURM_CONF exported (else they look for
# DNS SRV records); the host is not called `localhost`, so slurmd runs with -N localhost; array tasks start in waves
# seconds apart unless batch_sched_delay=0; without systemd the daemons run in the foreground (-D) of their own
# session (setsid).
set -euo pipefail

need=(slurmctld slurmd sbatch scontrol sinfo munged mungekey)

check() {
  local missing=()
  for c in "${need[@]}"; do
    command -v "$c" >/dev/null 2>&1 || [ -x "/usr/sbin/$c" ] || missing+=("$c")
  done
  if [ ${#missing[@]} -ne 0 ]; then
    echo "missing Slurm programs: ${missing[*]} (Debian: apt-get install slurmctld slurmd slurm-client munge)" >&2
    return 1
  fi
}

# A port p such that p and p+1 are free on 127.0.0.1 (slurmctld uses p, slurmd p+1).
free_port() {
  local p
  for _ in $(seq 1 50); do
    p=$(( 20000 + (RANDOM % 20000) * 2 ))
    if ! (exec 3<>/dev/tcp/127.0.0.1/$p) 2>/dev/null && ! (exec 3<>/dev/tcp/127.0.0.1/$((p + 1))) 2>/dev/null; then
      echo "$p"; return 0
    fi
  done
  echo "no free port pair found" >&2; return 1
}

# Closes every descriptor above 2 of this (sub)shell: a daemon must not keep open what its caller waits on (a pipe
# whose end it reads to EOF, or the descriptor Foundation's Process watches to see its child exit).
close_fds() {
  local fd
  for fd in /proc/$BASHPID/fd/*; do fd=${fd##*/}; [ "$fd" -gt 2 ] && eval "exec $fd>&-" 2>/dev/null; done
  return 0
}

# Starts "$@" in the background in a session of its own, stdin from /dev/null, output appended to the file $1, no
# other inherited descriptor; prints its pid.
detached() {
  local log=$1; shift
  ( close_fds; exec setsid "$@" </dev/null >>"$log" 2>&1 ) &
  echo $!
}

up() {
  local W=$1
  check
  export PATH="$PATH:/usr/sbin:/sbin"
  mkdir -p "$W"/{etc,state,spool,log,munge}
  W=$(cd "$W" && pwd)
  chmod 755 "$W" "$W/munge"
  local port user cpus
  port=${SLURM_TEST_PORT:-$(free_port)}
  user=$(id -un)
  cpus=$(nproc)
  [ -s "$W/munge/munge.key" ] || mungekey --create --keyfile="$W/munge/munge.key" 2>/dev/null
  chmod 600 "$W/munge/munge.key"
  detached "$W/log/munged.out" munged --foreground --force --socket="$W/munge/sock" --key-file="$W/munge/munge.key" \
           --pid-file="$W/munge/munged.pid" --log-file="$W/log/munged.log" --seed-file="$W/munge/seed" > "$W/munged.mypid"
  for _ in $(seq 1 50); do [ -S "$W/munge/sock" ] && break; sleep 0.1; done   # at most 5 s
  cat > "$W/etc/slurm.conf" <<EOF
ClusterName=glassbox-test
SlurmctldHost=localhost(127.0.0.1)
SlurmUser=$user
SlurmdUser=$user
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$W/munge/sock
SlurmctldPort=$port
SlurmdPort=$((port + 1))
MpiDefault=none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
DefMemPerCPU=200
SchedulerType=sched/backfill
SchedulerParameters=batch_sched_delay=0
ReturnToService=2
MinJobAge=600
MessageTimeout=5
MailProg=/bin/true
StateSaveLocation=$W/state
SlurmdSpoolDir=$W/spool
SlurmctldPidFile=$W/slurmctld.pid
SlurmdPidFile=$W/slurmd.pid
SlurmctldLogFile=$W/log/slurmctld.log
SlurmdLogFile=$W/log/slurmd.log
NodeName=localhost NodeHostname=localhost NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=2000 State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
EOF
  export SLURM_CONF="$W/etc/slurm.conf"
  # -D keeps them in the foreground of their own session; their pids are recorded for `down`.
  detached "$W/log/slurmctld.out" slurmctld -D -i -f "$SLURM_CONF" > "$W/slurmctld.mypid"
  detached "$W/log/slurmd.out" slurmd -D -N localhost -f "$SLURM_CONF" > "$W/slurmd.mypid"
  for _ in $(seq 1 150); do                       # at most 30 s
    case "$(timeout 5 sinfo -h -n localhost -o %t 2>/dev/null || true)" in
      idle|mix|alloc) echo "export SLURM_CONF=$SLURM_CONF"; return 0 ;;
    esac
    sleep 0.2
  done
  echo "the test cluster in $W did not come up within 30 s; last log lines:" >&2
  tail -n 15 "$W"/log/*.log "$W"/log/*.out >&2 || true
  down "$W" || true
  return 1
}

down() {
  local W=$1
  [ -d "$W" ] || return 0
  local pids=()
  for f in slurmd.mypid slurmctld.mypid munged.mypid; do
    if [ -s "$W/$f" ]; then
      local p; p=$(cat "$W/$f")
      kill "$p" 2>/dev/null && pids+=("$p") || true
    fi
  done
  for _ in $(seq 1 50); do                        # at most 5 s, then SIGKILL
    local alive=0
    for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null && alive=1; done
    [ $alive -eq 0 ] && break
    sleep 0.1
  done
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  rm -rf "$W"
}

case "${1:-}" in
  up) [ $# -eq 2 ] || { echo "usage: $0 up DIR" >&2; exit 2; }; up "$2" ;;
  down) [ $# -eq 2 ] || { echo "usage: $0 down DIR" >&2; exit 2; }; down "$2" ;;
  check) check ;;
  *) echo "usage: $0 up DIR | down DIR | check" >&2; exit 2 ;;
esac
