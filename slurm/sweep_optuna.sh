#!/bin/bash
# The same configs/sweep.yaml without a W&B server: Optuna trials sharing one journal file as a job array.
#   sbatch --array=0-19%4 slurm/sweep_optuna.sh --study lr-width [--params configs/params.yaml ...]
# The journal is OUTPUTS_DIR/sweeps/<study>.journal (put OUTPUTS_DIR on a shared file system).
# Resources are defaults: override them on the sbatch command line.
#SBATCH --job-name=algonauts-optuna
#SBATCH --cpus-per-task=8
#SBATCH --mem=64G
#SBATCH --gres=gpu:1
#SBATCH --time=12:00:00
#SBATCH --output=slurm-%x-%A_%a.out
set -euo pipefail
ROOT="${ALGONAUTS_ROOT:-${SLURM_SUBMIT_DIR:-$(pwd)}}"; cd "$ROOT"
SETUP="${ALGONAUTS_SETUP:-$ROOT/slurm/setup_env.sh}"; if [ -f "$SETUP" ]; then source "$SETUP"; fi
exec algonauts-sweep optuna --trials 1 "$@"
