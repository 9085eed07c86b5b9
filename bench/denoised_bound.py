"""How far can each model go on a simulated world? Train on the noise-free signal instead of the recording.

`python bench/denoised_bound.py --sim /tmp/bench/sim --out /tmp/bench/bound [--models tconv fmri ridge]`

The simulator keeps the noise-free signal of every training run (`ground_truth/<subject>_task-<task>_signal.h5`, same
keys as the recorded runs). This script builds a twin data set whose fMRI files are those signals (features, test sets
and ground truth are the original ones, by symbolic link), fits each model on it with the small profile exactly as
`bench/benchmark.py` does, and scores S7 and OOD against the *recorded* ground truth. Training targets without
measurement noise remove the estimation error of a finite noisy training set, so the score is what the model class
reaches from these features when the fMRI noise no longer limits learning: an empirical upper bound for the
same model trained on the recording. Results go to stdout and `bench/denoised_bound.md`.
"""
from __future__ import annotations
import json, os, sys, time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT/'bench'))
import benchmark  # noqa: E402  (same pipeline, profile, threads and subprocess measurement)


def denoised_twin(sim:Path, twin:Path) -> Path:
    "A data set like `sim` whose recorded training runs are replaced by their noise-free signal (symbolic links)"
    from algonauts.config import SUBJECTS
    from algonauts.data import fmri_path
    from algonauts.simulate import signal_path
    for name in ('features', 'ground_truth', 'simulate.json', 'stimuli'):
        if (sim/name).exists() and not (twin/name).exists():
            twin.mkdir(parents=True, exist_ok=True); (twin/name).symlink_to(sim/name)
    for s in SUBJECTS:
        for d in ('atlas', 'target_sample_number'):
            (twin/'fmri'/s).mkdir(parents=True, exist_ok=True)
            if not (twin/'fmri'/s/d).exists(): (twin/'fmri'/s/d).symlink_to(sim/'fmri'/s/d)
        for task in ('friends', 'movie10'):
            dst = fmri_path(twin/'fmri', s, task)
            dst.parent.mkdir(parents=True, exist_ok=True)
            if not dst.exists(): dst.symlink_to(signal_path(sim, s, task))
    return twin


def main(argv=None):
    p = benchmark.parser(__doc__, 'folder for the twin data set and the runs', ['tconv', 'fmri', 'ridge'], ROOT/'bench'/'denoised_bound.md')
    a = p.parse_args(argv)
    sim, out = a.sim.resolve(), a.out.resolve()
    twin = denoised_twin(sim, out/'twin')
    rows = {}
    for k in a.models:
        rows[k] = benchmark.run_child('pipeline', twin, out, k); print(json.dumps(rows[k]), flush=True)
    lines = ['# Denoised-target bound on the simulated `small` set', '',
             f"- command: `python bench/denoised_bound.py {' '.join(argv if argv is not None else sys.argv[1:])}`",
             f"- date: {time.strftime('%Y-%m-%d %H:%M')}; params `{benchmark.PARAMS}`, {benchmark.THREADS} threads; "
             f"simulation `{sim}`", '- training targets: noise-free signal; scores against the recorded ground truth: S7 / OOD r '
             'under the challenge rules (trim 5 per run, OOD per film), (old) under the earlier one-series metric (trim 0)', '', '| model | val r (vs signal) | epochs | S7 r | S7 / ceiling | OOD r | OOD / ceiling | S7 r (old) | OOD r (old) | fit s |',
             '|---|---|---|---|---|---|---|---|---|---|']
    for k, r in rows.items():
        lines.append(f"| {k} | {r['val']:.4f} | {r['epochs']} | {r['s7']:.4f} | {r['s7'] / r['s7_ceiling']:.3f} | "
                     f"{r['ood']:.4f} | {r['ood'] / r['ood_ceiling']:.3f} | {r['s7_old']:.4f} | {r['ood_old']:.4f} | {benchmark._f(r['fit_s'], '.1f')} |")
    text = '\n'.join(lines) + '\n'
    print(text); a.results.write_text(text)


if __name__ == '__main__': main()
