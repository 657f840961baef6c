#!/usr/bin/env bash
# A private single-node Slurm cluster for the scale-out tests (run as root; Debian's slurmctld,
# slurmd, munge and slurm-client). Everything lives under DIR: the config, a fresh munge key and
# socket, state, spool, logs and pid files, so the machine's own /etc/slurm and /etc/munge are
# never touched and `stop` kills exactly the daemons `start` started.
#   scripts/slurm-local.sh start DIR    prints SLURM_CONF=DIR/slurm.conf once the node is idle
#   scripts/slurm-local.sh stop DIR
set -euo pipefail
cmd=${1:?usage: slurm-local.sh start|stop DIR}
DIR=${2:?usage: slurm-local.sh start|stop DIR}

stop() {
  for pid in "$DIR/slurmd.pid" "$DIR/slurmctld.pid" "$DIR/munge/munged.pid"; do
    if [ -s "$pid" ]; then kill "$(cat "$pid")" 2>/dev/null || true; fi
  done
  for pid in "$DIR/slurmd.pid" "$DIR/slurmctld.pid" "$DIR/munge/munged.pid"; do
    for _ in $(seq 50); do
      if [ -s "$pid" ] && kill -0 "$(cat "$pid")" 2>/dev/null; then sleep 0.1; else break; fi
    done
    rm -f "$pid"
  done
}

if [ "$cmd" = stop ]; then stop; exit 0; fi
[ "$cmd" = start ] || { echo "unknown command $cmd" >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "slurm-local.sh start needs root (slurmd runs jobs as their user)" >&2; exit 1; }
for b in munged slurmctld slurmd sbatch sinfo; do command -v "$b" >/dev/null || { echo "$b is not installed: apt-get install -y slurmctld slurmd munge slurm-client" >&2; exit 1; }; done

mkdir -p "$DIR"/{state,spool,log,munge}
chmod 755 "$DIR"
chown munge:munge "$DIR/munge"
chmod 711 "$DIR/munge"
if [ ! -s "$DIR/munge/munge.key" ]; then
  dd if=/dev/urandom bs=1 count=1024 of="$DIR/munge/munge.key" status=none
fi
chown munge:munge "$DIR/munge/munge.key"
chmod 400 "$DIR/munge/munge.key"
SOCK="$DIR/munge/munge.socket.2"
runuser -u munge -- munged --key-file="$DIR/munge/munge.key" --socket="$SOCK" --pid-file="$DIR/munge/munged.pid" \
  --log-file="$DIR/munge/munged.log" --seed-file="$DIR/munge/munged.seed"

HOST=$(hostname -s)
CPUS=$(nproc)
MEM=$(( $(awk '/MemTotal/ {print $2}' /proc/meminfo) / 1024 - 1024 ))
cat > "$DIR/slurm.conf" <<CONF
ClusterName=toklab-test
SlurmctldHost=$HOST
AuthType=auth/munge
AuthInfo=socket=$SOCK
CredType=cred/munge
SlurmUser=root
SlurmdUser=root
StateSaveLocation=$DIR/state
SlurmdSpoolDir=$DIR/spool
SlurmctldPidFile=$DIR/slurmctld.pid
SlurmdPidFile=$DIR/slurmd.pid
SlurmctldLogFile=$DIR/log/slurmctld.log
SlurmdLogFile=$DIR/log/slurmd.log
SlurmctldPort=$(( 16817 + RANDOM % 1000 ))
SlurmdPort=$(( 17818 + RANDOM % 1000 ))
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
ReturnToService=2
MinJobAge=3600
JobAcctGatherType=jobacct_gather/none
NodeName=$HOST CPUs=$CPUS RealMemory=$MEM State=UNKNOWN
PartitionName=debug Nodes=$HOST Default=YES MaxTime=INFINITE State=UP
CONF
export SLURM_CONF="$DIR/slurm.conf"
slurmctld -f "$SLURM_CONF"
slurmd -f "$SLURM_CONF"
for _ in $(seq 100); do
  if sinfo -h -o %T 2>/dev/null | grep -Eq '^(idle|mixed|allocated)'; then echo "SLURM_CONF=$SLURM_CONF"; exit 0; fi
  sleep 0.2
done
echo "the Slurm node did not come up; see $DIR/log/" >&2
sinfo >&2 || true
stop
exit 1
