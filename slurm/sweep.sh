#!/bin/bash
# W&B sweep agents as a job array: one trial per task (needs a W&B server reachable from the nodes).
#   wandb sweep configs/sweep.yaml            # prints SWEEP_ID (entity/project/id)
#   sbatch --array=0-19%4 slurm/sweep.sh SWEEP_ID [--params configs/params.yaml ...]
# Resources are defaults: override them on the sbatch command line.
#SBATCH --job-name=algonauts-sweep
#SBATCH --cpus-per-task=8
#SBATCH --mem=64G
#SBATCH --gres=gpu:1
#SBATCH --time=12:00:00
#SBATCH --output=slurm-%x-%A_%a.out
set -euo pipefail
ROOT="${ALGONAUTS_ROOT:-${SLURM_SUBMIT_DIR:-$(pwd)}}"; cd "$ROOT"
SETUP="${ALGONAUTS_SETUP:-$ROOT/slurm/setup_env.sh}"; if [ -f "$SETUP" ]; then source "$SETUP"; fi
SWEEP_ID="${1:?usage: sbatch slurm/sweep.sh SWEEP_ID [config flags]}"; shift
exec algonauts-sweep wandb "$SWEEP_ID" --trials 1 "$@"
