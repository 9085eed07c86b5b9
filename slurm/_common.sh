# Shared by the batch scripts (sourced, not submitted). Arguments are papermill parameters of
# nbs/train.ipynb as key=value (e.g. name=run0 params=configs/small.yaml overrides="train.epochs=5").
# Site setup (modules, venv, data paths) goes in slurm/setup_env.sh (see setup_env.sh.example) or in
# the file named by $ALGONAUTS_SETUP.
set -euo pipefail
ROOT="${ALGONAUTS_ROOT:-${SLURM_SUBMIT_DIR:-$(pwd)}}"
cd "$ROOT"
SETUP="${ALGONAUTS_SETUP:-$ROOT/slurm/setup_env.sh}"
if [ -f "$SETUP" ]; then source "$SETUP"; fi
PAPERMILL="${PAPERMILL:-papermill}"
KERNEL="${KERNEL:-python3}"

declare -A P=()
for kv in "$@"; do
  case "$kv" in *=*) P["${kv%%=*}"]="${kv#*=}" ;; *) echo "algonauts: argument '$kv' is not key=value" >&2; exit 2 ;; esac
done
# The notebook and this script must agree on where the run folder is: resolve both paths here.
P[outputs_dir]="${P[outputs_dir]:-${OUTPUTS_DIR:-$ROOT/outputs}}"
P[checkpoint_dir]="${P[checkpoint_dir]:-${CHECKPOINT_DIR:-${P[outputs_dir]}/checkpoints}}"
OUTPUTS_DIR="${P[outputs_dir]}"; CHECKPOINT_DIR="${P[checkpoint_dir]}"
# Job arrays: one seed per task, and a run name per seed.
if [ -n "${SLURM_ARRAY_TASK_ID:-}" ] && [ -z "${P[seed]:-}" ]; then P[seed]="$SLURM_ARRAY_TASK_ID"; fi
BASE="${P[name]:-${SLURM_JOB_NAME:-algonauts}-${SLURM_ARRAY_JOB_ID:-${SLURM_JOB_ID:-local}}}"
if [ -n "${SLURM_ARRAY_TASK_ID:-}" ]; then P[name]="$BASE-s${P[seed]}"; else P[name]="$BASE"; fi

inside() {  # inside ROOT NAME WHAT: stop unless ROOT/NAME stays inside ROOT (no '..' out of it, no absolute path)
  local root path; root="$(realpath -m "$1")"; path="$(realpath -m "$1/$2")"
  case "$2" in ''|/*) path="" ;; esac
  if [ -z "$path" ] || [ "${path#"$root"/}" = "$path" ]; then
    echo "algonauts: error: $3 '$2' leaves $root; expected a name inside it (no '..', no absolute path)" >&2; exit 2
  fi
}
# A new run needs data: without it the notebook would run its smoke test (say smoke=True for that on purpose).
for s in ${P[stage]//[+,]/ }; do
  if [[ "$s" =~ ^(train|fit)$ ]] && [ -z "${P[data_dir]:-}${P[features_dir]:-}${DATA_DIR:-}${FEATURES_DIR:-}${P[smoke]:-}" ]; then
    echo "algonauts: error: no data: pass data_dir=... features_dir=... or export DATA_DIR and FEATURES_DIR (slurm/setup_env.sh);" \
         "smoke=True runs the tiny simulated smoke test instead" >&2; exit 2
  fi
done

pm_args() { for k in "${!P[@]}"; do printf '%s\0' -p "$k" "${P[$k]}"; done; }

on_preempt() {  # SLURM's warning signal (--signal=B:USR1@N) or SIGTERM
  echo "algonauts: signal at $(date +%T): checkpointing, then requeueing job ${SLURM_JOB_ID:-?}"
  pkill -USR1 -P "$PM" 2>/dev/null || true  # the kernel, papermill's child, saves a checkpoint and stops
  wait "$PM" || true
  keep_report
  if [ -n "${SLURM_JOB_ID:-}" ]; then scontrol requeue "$SLURM_JOB_ID"; fi
  exit 0
}

keep_report() {  # move the executed notebook into its folder (the run folder) if that exists, else beside it
  [ -f "$STAGED" ] || return 0
  local dir; dir="$(dirname "$OUT")"
  if [ ! -d "$dir" ]; then OUT="$(dirname "$dir")/$(basename "$dir").$(basename "$OUT")"; fi  # the run did not start
  mv -f "$STAGED" "$OUT"; echo "algonauts: report $OUT"
}

run_notebook() {  # run_notebook OUT.ipynb: execute nbs/train.ipynb with the parameters; the executed copy ends as OUT.ipynb
  OUT="$1"; local dir rc=0; dir="$(dirname "$OUT")"
  # Written beside the run folder while it runs: the folder is the run's to make (a failed start leaves none behind).
  mkdir -p "$(dirname "$dir")"; STAGED="$(dirname "$dir")/.$(basename "$dir")-${SLURM_JOB_ID:-$$}-$(basename "$OUT")"
  echo "algonauts: $(date +%T) ${P[stage]} ${P[name]} (attempt ${SLURM_RESTART_COUNT:-0}) -> $OUT"
  trap on_preempt USR1 TERM
  mapfile -d '' args < <(pm_args)
  "$PAPERMILL" "$ROOT/nbs/train.ipynb" "$STAGED" -k "$KERNEL" --cwd "$ROOT" --log-output "${args[@]}" &
  PM=$!
  wait "$PM" || rc=$?
  keep_report
  return "$rc"
}
