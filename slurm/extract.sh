#!/bin/bash
# Extract features on a GPU node. Arguments go to algonauts-extract unchanged.
#   sbatch slurm/extract.sh configs/extract.yaml --stimuli_dir /data/stimuli --features_dir /data/features
#   sbatch slurm/extract.sh configs/extract.yaml --streams audio_whisper --movies ood
# One Friends season per array task (all tasks must extract the same streams: they share features.yaml):
#   sbatch --array=1-7 slurm/extract.sh configs/extract.yaml --movies friends
# Outputs are written atomically and existing ones are skipped, so a requeued or repeated job resumes.
# STIMULI_DIR / FEATURES_DIR may come from slurm/setup_env.sh instead of the flags.
#SBATCH --job-name=algonauts-extract
#SBATCH --cpus-per-task=8
#SBATCH --mem=64G
#SBATCH --gres=gpu:1
#SBATCH --time=12:00:00
#SBATCH --requeue
#SBATCH --output=slurm-%x-%j.out
set -euo pipefail
ROOT="${ALGONAUTS_ROOT:-${SLURM_SUBMIT_DIR:-$(pwd)}}"
cd "$ROOT"
SETUP="${ALGONAUTS_SETUP:-$ROOT/slurm/setup_env.sh}"
if [ -f "$SETUP" ]; then source "$SETUP"; fi
ARGS=("$@")
if [ -n "${SLURM_ARRAY_TASK_ID:-}" ]; then ARGS+=(--clips "^s0${SLURM_ARRAY_TASK_ID}e"); fi
echo "algonauts: $(date +%T) extract ${ARGS[*]} on $(hostname)"
exec "${ALGONAUTS_EXTRACT:-algonauts-extract}" "${ARGS[@]}" --no_progress
