#!/bin/bash
# Predict S7 and OOD with one or several final models and write the official archives.
#   sbatch slurm/submission.sh checkpoint="ens-s0 ens-s1 ens-s2" submission=ens sets=all
# Resources are defaults: override them on the sbatch command line.
#SBATCH --job-name=algonauts-submit
#SBATCH --cpus-per-task=4
#SBATCH --mem=32G
#SBATCH --gres=gpu:1
#SBATCH --time=1:00:00
#SBATCH --output=slurm-%x-%j.out
source "${ALGONAUTS_ROOT:-${SLURM_SUBMIT_DIR:-.}}/slurm/_common.sh" stage=submit "$@"
run_notebook "$OUTPUTS_DIR/submissions/${P[submission]:-${P[name]}}_submit.ipynb"
