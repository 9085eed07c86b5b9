#!/bin/bash
# Train a model with papermill on nbs/train.ipynb; the executed notebook goes into the run folder.
#   sbatch slurm/train.sh name=run0 params=configs/params.yaml features=configs/features.yaml
#   sbatch --array=0-9 slurm/train.sh name=ens   # a seed ensemble: seed = task id, runs ens-s0 … ens-s9

# Resources are defaults: override them on the sbatch command line (e.g. --gres=gpu:a100:1 --time=4:00:00).
#SBATCH --job-name=algonauts-train
#SBATCH --cpus-per-task=8
#SBATCH --mem=64G
#SBATCH --gres=gpu:1
#SBATCH --time=12:00:00
#SBATCH --signal=B:USR1@300
#SBATCH --requeue
#SBATCH --open-mode=append
#SBATCH --output=slurm-%x-%j.out
source "${ALGONAUTS_ROOT:-${SLURM_SUBMIT_DIR:-.}}/slurm/_common.sh" stage=train "$@"
inside "$CHECKPOINT_DIR" "${P[name]}" name
run_notebook "$CHECKPOINT_DIR/${P[name]}/train.ipynb"
