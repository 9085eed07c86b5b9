"""Benchmark of the three model kinds on a simulated data set: fit, predict, score, time, memory, throughput.

`python bench/benchmark.py --sim /tmp/bench/sim --out /tmp/bench/out [--models fmri ridge tconv]`

Each model runs in its own subprocess (`--worker`), so that its wall time and peak RSS (from `os.wait4`) are its own.
A worker fits (train with validation, then retrain on train + validation), predicts S7 and OOD with the final model
and scores both against the simulation's ground truth with the official metric. A second subprocess per trainable
model measures training throughput in TRs per second: the DataLoader alone (no model) against the model alone
(forward, backward and AdamW step on one batch held in memory). Results go to stdout and `bench/results.md`.
"""
from __future__ import annotations
import argparse, json, os, subprocess, sys, time
from pathlib import Path

PARAMS = 'configs/small.yaml'  # the small-data profile, as in `algonauts-demo`
THREADS = 2  # torch threads: the target machine has 2 cores
TRAINABLE = ('fmri', 'tconv')  # kinds with a gradient loop (ridge is closed-form)
ROOT = Path(__file__).resolve().parent.parent


def _config(sim:Path, out:Path, kind:str, run_name:str=None):
    "The small profile for `kind` on the simulated set `sim`, runs under `out`, W&B and progress bars off"
    from algonauts.config import load_config
    vals = {'model.kind': kind, 'logging.wandb_mode': 'disabled', 'logging.progress': False, 'logging.run_name': run_name}
    return load_config(ROOT/PARAMS, sim/'features.yaml', values=vals, data_dir=sim/'fmri', features_dir=sim/'features',
                       outputs_dir=out)


def pipeline(sim:Path, out:Path, kind:str) -> dict:
    "Fit, predict S7 and OOD, score against the ground truth; timings in seconds"
    from algonauts import train as T, metrics
    from algonauts.submit import predict_set
    cfg = _config(sim, out, kind, f"bench-{kind}-{time.strftime('%Y%m%d-%H%M%S')}")  # a fresh run folder every time
    t = time.time(); res = T.fit(cfg); fit_s = time.time() - t
    row = dict(model=kind, val=res['best_score'], epochs=res['best_epoch'], fit_s=fit_s)
    for s in ('s7', 'ood'):
        t = time.time(); pred = predict_set(cfg, [res['run_id']], s); row[f'{s}_predict_s'] = time.time() - t
        r = metrics.score(pred, metrics.load_truth(sim/'ground_truth', s))
        row[s], row[f'{s}_ceiling'] = r.score, metrics.noise_ceiling(sim/'ground_truth', s).score
    return row


def _trs(batch) -> int: return int(batch['mask'].sum())


def throughput(sim:Path, out:Path, kind:str, steps:int=20, warmup:int=3) -> dict:
    "TRs per second of the training DataLoader alone (one full epoch) and of the model alone (`steps` steps, one batch)"
    import torch
    from algonauts import train as T
    from algonauts.data import split_sources, fit_stats, FMRIDataset, collate
    from algonauts.model import build_model
    from algonauts.loss import make_loss
    cfg = _config(sim, out, kind)
    src = split_sources(cfg, 'train')
    ds = FMRIDataset(cfg, src, fit_stats(cfg, src))
    loader = lambda: torch.utils.data.DataLoader(ds, cfg.train.batch_size, shuffle=True, collate_fn=collate,
                                                 num_workers=cfg.data.num_workers, generator=torch.Generator().manual_seed(0))
    res = {}
    for name in ('loader_first', 'loader'):  # the first epoch also reads each run once for its z-score statistics
        t, n = time.time(), 0
        for b in loader(): n += _trs(b)
        res[f'{name}_trs_s'] = n / (time.time() - t)
    T.seed_everything(cfg.train.seed)
    model, loss_fn = build_model(cfg).train(), make_loss(cfg)
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.train.lr, weight_decay=cfg.train.weight_decay)
    b = next(iter(loader()))
    def step():
        loss = loss_fn(model(b['feats'], b['subject'], b['mask'], b['present']), b['fmri'], b['mask'], model)['total']
        opt.zero_grad(set_to_none=True); loss.backward()
        if cfg.train.grad_clip: torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.train.grad_clip)
        opt.step()
    for _ in range(warmup): step()
    t = time.time()
    for _ in range(steps): step()
    res['model_trs_s'] = steps * _trs(b) / (time.time() - t)
    res['batch'], res['window'] = cfg.train.batch_size, cfg.data.window
    return res


def worker(task:str, sim:Path, out:Path, kind:str, result:Path):
    import torch
    torch.set_num_threads(THREADS)
    row = pipeline(sim, out, kind) if task == 'pipeline' else throughput(sim, out, kind)
    result.write_text(json.dumps(row))


def run_child(task:str, sim:Path, out:Path, kind:str) -> dict:
    "Run `task` for `kind` in a subprocess; its result plus wall seconds and peak RSS (MiB) of that child alone"
    result = out/f'{task}-{kind}.json'
    result.unlink(missing_ok=True)
    env = {**os.environ, 'OMP_NUM_THREADS': str(THREADS), 'MKL_NUM_THREADS': str(THREADS), 'WANDB_MODE': 'disabled',
           'PYTHONPATH': os.pathsep.join([str(ROOT), os.environ.get('PYTHONPATH', '')]).rstrip(os.pathsep)}
    t = time.time()
    p = subprocess.Popen([sys.executable, __file__, '--worker', task, '--sim', str(sim), '--out', str(out), '--models', kind],
                         env=env, cwd=ROOT)
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.time() - t
    if os.waitstatus_to_exitcode(status) != 0: raise RuntimeError(f"{task} {kind}: worker exited with {os.waitstatus_to_exitcode(status)}")
    return {**json.loads(result.read_text()), 'wall_s': wall, 'rss_mib': ru.ru_maxrss / 1024}  # ru_maxrss is in KiB on Linux


def table(rows:dict, tput:dict) -> str:
    "Markdown table, one row per model"
    head = ('| model | val r | epochs | S7 r | S7 / ceiling | OOD r | OOD / ceiling | fit s | predict s | wall s | peak RSS MiB '
            '| loader TR/s (1st epoch) | loader TR/s | model TR/s |')
    lines = [head, '|' + '---|' * (head.count('|') - 1)]
    f = lambda x, p='.0f': '—' if x is None else format(x, p)
    for k, r in rows.items():
        t = tput.get(k, {})
        lines.append(f"| {k} | {r['val']:.4f} | {r['epochs']} | {r['s7']:.4f} | {r['s7'] / r['s7_ceiling']:.3f} | {r['ood']:.4f} "
                     f"| {r['ood'] / r['ood_ceiling']:.3f} | {r['fit_s']:.1f} | {r['s7_predict_s'] + r['ood_predict_s']:.1f} "
                     f"| {r['wall_s']:.1f} | {r['rss_mib']:.0f} | {f(t.get('loader_first_trs_s'))} | {f(t.get('loader_trs_s'))} "
                     f"| {f(t.get('model_trs_s'))} |")
    r0 = next(iter(rows.values()))
    lines.append(f"\nNoise ceiling: S7 {r0['s7_ceiling']:.4f}, OOD {r0['ood_ceiling']:.4f}.")
    return '\n'.join(lines)


def parser(doc:str, out_help:str, models:list, results:Path) -> argparse.ArgumentParser:
    "The flags shared by the benchmark scripts: --sim --out --models --results"
    p = argparse.ArgumentParser(description=doc.splitlines()[0])
    p.add_argument('--sim', required=True, type=Path, help='simulated data set (algonauts-simulate OUT --size small)')
    p.add_argument('--out', required=True, type=Path, help=out_help)
    p.add_argument('--models', nargs='+', default=models, help='model kinds')
    p.add_argument('--results', type=Path, default=results, help='markdown file written with the table')
    return p


def main(argv=None):
    p = parser(__doc__, 'folder for runs and per-model results', ['fmri', 'ridge', 'tconv'], ROOT/'bench'/'results.md')
    p.add_argument('--worker', default=None, help=argparse.SUPPRESS)
    a = p.parse_args(argv)
    sim, out = a.sim.resolve(), a.out.resolve()
    if a.worker: return worker(a.worker, sim, out, a.models[0], out/f'{a.worker}-{a.models[0]}.json')
    for f in ('features.yaml', 'ground_truth/s7.h5', 'ground_truth/ood.h5'):
        if not (sim/f).exists(): p.error(f"{sim/f} not found: simulate first (algonauts-simulate {sim} --size small)")
    out.mkdir(parents=True, exist_ok=True)
    rows, tput = {}, {}
    for k in a.models:
        rows[k] = run_child('pipeline', sim, out, k); print(json.dumps(rows[k]), flush=True)
        if k in TRAINABLE: tput[k] = run_child('throughput', sim, out, k); print(json.dumps(tput[k]), flush=True)
    import torch, algonauts
    cmd = 'python bench/benchmark.py ' + ' '.join(argv if argv is not None else sys.argv[1:])
    text = '\n'.join([
        '# Benchmark on the simulated `small` set', '',
        f"- command: `{cmd}`",
        f"- date: {time.strftime('%Y-%m-%d %H:%M')}; algonauts {algonauts.__version__}, torch {torch.__version__}; "
        f"{THREADS} torch threads on CPU ({os.cpu_count()} cores visible); params `{PARAMS}`; W&B disabled",
        f"- simulation: `{sim}` ({json.loads((sim/'simulate.json').read_text()).get('size')}, seed "
        f"{json.loads((sim/'simulate.json').read_text()).get('seed')})",
        '- fit = train with validation + retrain on train+val; scores are the official metric on the ground truth; '
        'wall and peak RSS are those of the model\'s own subprocess (`os.wait4`); throughput counts real (unpadded) '
        'training TRs: loader = iterating the training DataLoader with no model, model = forward+backward+AdamW step '
        'on one batch held in memory.', '', table(rows, tput), ''])
    print(text)
    a.results.write_text(text)


if __name__ == '__main__': main()
