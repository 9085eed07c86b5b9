#!/bin/bash
# Predict S7 and OOD with one or several final models and write the official archives.
#   sbatch slurm/submission.sh checkpoint="ens-s0 ens-s1 ens-s2" submission=ens sets=all
#   sbatch slurm/submission.sh checkpoint="ens-s*" submission=ens     # a glob, or a seed range: checkpoint=ens-s0-9
# Resources are defaults: override them on the sbatch command line.
#SBATCH --job-name=algonauts-submit
#SBATCH --cpus-per-task=4
#SBATCH --mem=32G
#SBATCH --gres=gpu:1
#SBATCH --time=1:00:00
#SBATCH --output=slurm-%x-%j.out
source "${ALGONAUTS_ROOT:-${SLURM_SUBMIT_DIR:-.}}/slurm/_common.sh" stage=submit "$@"
# The archives and this report share a name: submission=, else the first run id (globs and seed ranges: the job's name).
if [ -z "${P[submission]:-}" ]; then
  first="${P[checkpoint]:-}"; first="${first%% *}"
  if [ -z "$first" ] || [[ "$first" == *[*?[]* ]] || { [[ "$first" =~ -s[0-9]+-[0-9]+$ ]] && [ ! -d "$CHECKPOINT_DIR/$first" ]; }
  then P[submission]="${P[name]}"; else P[submission]="$first"; fi
fi
inside "$OUTPUTS_DIR/submissions" "${P[submission]}" submission
run_notebook "$OUTPUTS_DIR/submissions/${P[submission]}_submit.ipynb"
