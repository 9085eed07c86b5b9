#!/bin/bash
# A single-node SLURM cluster on localhost for the tests: `start DIR` installs slurm and munge from
# Debian packages when missing (root, apt-get), writes slurm.conf under DIR, starts munged, slurmctld
# and slurmd with state and logs in DIR and prints `export SLURM_CONF=…`; `stop DIR` stops only the
# daemons it started (by the PIDs it recorded).
set -euo pipefail
cmd="$1"; D="$(realpath -m "$2")"

install() {
  command -v slurmctld >/dev/null && command -v munged >/dev/null && command -v sbatch >/dev/null && return 0
  [ "$(id -u)" = 0 ] || { echo "SKIP: slurm is not installed and we are not root" >&2; exit 77; }
  command -v apt-get >/dev/null || { echo "SKIP: slurm is not installed and there is no apt-get" >&2; exit 77; }
  printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d; chmod +x /usr/sbin/policy-rc.d  # install, don't start services
  trap 'rm -f /usr/sbin/policy-rc.d' EXIT
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      slurmctld slurmd slurm-client munge) >"$D/apt.log" 2>&1 || { echo "SKIP: apt-get could not install slurm (see $D/apt.log)" >&2; exit 77; }
}

start() {
  mkdir -p "$D"/{state,spool,log}; install
  mkdir -p /run/munge /etc/munge; chown munge:munge /run/munge /etc/munge 2>/dev/null || true
  [ -f /etc/munge/munge.key ] || mungekey --create >/dev/null 2>&1 || dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 2>/dev/null
  chown munge:munge /etc/munge/munge.key; chmod 0600 /etc/munge/munge.key
  if ! pgrep -x munged >/dev/null; then runuser -u munge -- munged; pgrep -nx munged > "$D/munged.pid"; fi
  local cpus mem; cpus=$(nproc); mem=$(( $(awk '/MemTotal/{print $2}' /proc/meminfo) / 1024 - 1024 ))
  cat > "$D/slurm.conf" <<CONF
ClusterName=algonauts-test
SlurmctldHost=localhost
SlurmUser=root
AuthType=auth/munge
StateSaveLocation=$D/state
SlurmdSpoolDir=$D/spool
SlurmctldPidFile=$D/slurmctld.pid
SlurmdPidFile=$D/slurmd.pid
SlurmctldLogFile=$D/log/slurmctld.log
SlurmdLogFile=$D/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/filetxt
JobCompLoc=$D/log/jobcomp.txt
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
DefMemPerCPU=1024
MinJobAge=4
SchedulerParameters=batch_sched_delay=0,sched_interval=1
MpiDefault=none
SwitchType=switch/none
ReturnToService=2
NodeName=localhost NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=test Nodes=localhost Default=YES MaxTime=INFINITE State=UP
CONF
  export SLURM_CONF="$D/slurm.conf"
  slurmctld -f "$SLURM_CONF"; slurmd -f "$SLURM_CONF" -N localhost
  for _ in $(seq 50); do sinfo -h -o %T 2>/dev/null | grep -qE '^idle' && break; sleep 0.2; done
  sinfo -h -o %T | grep -qE '^idle' || { echo "slurm did not come up; logs in $D/log" >&2; exit 1; }
  echo "export SLURM_CONF=$SLURM_CONF"
}

stop() {
  export SLURM_CONF="$D/slurm.conf"
  scancel --user="$(id -un)" 2>/dev/null || true
  scontrol shutdown 2>/dev/null || true
  for f in slurmd slurmctld munged; do
    [ -f "$D/$f.pid" ] || continue; pid=$(cat "$D/$f.pid")
    for _ in $(seq 25); do grep -qsE '^State:\s+[RSD]' /proc/$pid/status || break; sleep 0.2; done
    grep -qsE '^State:\s+[RSD]' /proc/$pid/status && kill "$pid" 2>/dev/null || true
  done
}
"$cmd"
