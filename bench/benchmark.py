"""Benchmark of the three model kinds on a simulated data set: fit, predict, score, time, memory, throughput; seed ensembles.

`python bench/benchmark.py --sim /tmp/bench/sim --out /tmp/bench/out [--models fmri ridge tconv] [--seeds 5]
[--lead-in 0 16] [--set key=value ...] [--no-throughput]`

Each fit runs in its own subprocess (`--worker`), so that its wall time and peak RSS (from `os.wait4`) are its own.
A worker fits (train with validation, then retrain on train + validation), predicts S7 and OOD with the final model
and scores both against the simulation's ground truth under two metrics from the same predictions:
`new` = the challenge server's rules (`metrics.score` defaults: each run trimmed by 5 TRs, OOD scored per film
then averaged) and `old` = the one-series metric used before (`trim=0, group='none'`: all of a subject's clips as
one series, untrimmed). A second subprocess per trainable model measures training throughput in TRs per second:
the DataLoader alone (no model) against the model alone (preparing the batch, forward, backward and AdamW step on one batch in memory).

Run folders are `OUT/checkpoints/bench-<kind>[-<variant>]-s<seed>`; one that is already finished in OUT is reused
(marked `reused`, its fit time not measured again). `--seeds N` fits seeds 0..N-1 of every model and scores the
ensembles of the first 1, 3 and 5 seeds (those up to N) with equal and per-parcel weights (`submit.predict_set`).
`--lead-in A B ...` fits every model once per `data.lead_in` value; `--set` applies config overrides to every fit.
Results go to stdout, `OUT/rows.jsonl` and the markdown file `--results`. The 1-minute load average at the start
and end of each subprocess is recorded: on a shared machine wall times and throughput depend on it, scores do not.
"""
from __future__ import annotations
import argparse, json, os, subprocess, sys, time
from pathlib import Path

PARAMS = 'configs/small.yaml'  # the small-data profile, as in `algonauts-demo`
THREADS = 2  # torch threads by default: the target machine has 2 cores
TRAINABLE = ('fmri', 'tconv')  # kinds with a gradient loop (ridge is closed-form)
ROOT = Path(__file__).resolve().parent.parent
METRICS = {'new': dict(trim=5, group='film'),  # the challenge server's rules (metrics.score's defaults)
           'old': dict(trim=0, group='none')}  # the one-series metric of the benchmark before 2026-12
SETS = ('s7', 'ood')
ENSEMBLE_SIZES = (1, 3, 5)  # seeds averaged
WEIGHTINGS = ('equal', 'parcel')


def variant(overrides) -> str:
    "Run-name tag of config overrides: `['data.lead_in=0']` -> `'lead_in0'`"
    return '-'.join(k.split('.')[-1] + v for k, v in (o.split('=', 1) for o in overrides))


def run_name(kind:str, seed:int, overrides=()) -> str: return '-'.join(['bench', kind] + [variant(overrides)] * bool(overrides) + [f's{seed}'])


def _config(sim:Path, out:Path, kind:str, run_name:str=None, seed:int=None, overrides=()):
    "The small profile for `kind` on the simulated set `sim` with `overrides`, runs under `out`, W&B and progress bars off"
    from algonauts.config import load_config
    vals = {'model.kind': kind, 'logging.wandb_mode': 'disabled', 'logging.progress': False, 'logging.run_name': run_name}
    if seed is not None: vals['train.seed'] = seed
    return load_config(ROOT/PARAMS, sim/'features'/'features.yaml', overrides=list(overrides), values=vals, data_dir=sim/'fmri',
                       features_dir=sim/'features', outputs_dir=out)


def scores(pred:dict, truth:dict) -> dict:
    "`{metric: score}` of one prediction under every metric of METRICS"
    from algonauts import metrics
    return {m: metrics.score(pred, truth, **kw).score for m, kw in METRICS.items()}


def ceilings(sim:Path) -> dict:
    "`{set: {metric: noise ceiling}}`: the noise-free signal scored against the recording"
    from algonauts import metrics
    return {s: {m: metrics.noise_ceiling(sim/'ground_truth', s, **kw).score for m, kw in METRICS.items()} for s in SETS}


def lead_windows(cfg) -> tuple:
    "(training windows that get lead-in TRs, training windows): with whole-run windows the lead-in is clipped away"
    from algonauts.config import window_stride
    from algonauts.data import split_sources, window_items
    items = window_items([s.n_tr for s in split_sources(cfg, 'train')], cfg.data.window, window_stride(cfg.data), cfg.data.lead_in)
    return int((items[:, 3] > 0).sum()), len(items)


def pipeline(sim:Path, out:Path, kind:str, seed:int=0, overrides=()) -> dict:
    "Fit (or reuse a finished run), predict S7 and OOD with the final model, score under both metrics; timings in seconds"
    from algonauts import train as T, metrics
    from algonauts.submit import predict_set
    name = run_name(kind, seed, overrides)
    cfg = _config(sim, out, kind, name, seed, overrides)
    reused = (T.run_dir_for(cfg)/'retrain_result.json').exists()
    t = time.time(); res = T.fit(cfg); fit_s = time.time() - t
    row = dict(model=kind, run=name, seed=seed, overrides=list(overrides), lead_in=cfg.data.lead_in, window=cfg.data.window,
               val=res['best_score'], epochs=res['best_epoch'], fit_s=None if reused else fit_s, reused=reused)
    row['lead_windows'], row['windows'] = lead_windows(cfg)
    for s in SETS:
        t = time.time(); pred = predict_set(cfg, [res['run_id']], s); row[f'{s}_predict_s'] = time.time() - t
        for m, v in scores(pred, metrics.load_truth(sim/'ground_truth', s)).items(): row[f'{s}_{m}'] = v
    for s, d in ceilings(sim).items():
        for m, v in d.items(): row[f'{s}_ceiling_{m}'] = v
    row.update({s: row[f'{s}_new'] for s in SETS}, **{f'{s}_ceiling': row[f'{s}_ceiling_new'] for s in SETS})  # the default metric
    return row


def ensemble(sim:Path, out:Path, kind:str, seeds:int, overrides=()) -> list:
    "Scores of the seeds alone and of the ensembles of the first k seeds (k in ENSEMBLE_SIZES, k <= `seeds`), each weighting"
    from algonauts import metrics
    from algonauts.submit import predict_set
    names = [run_name(kind, s, overrides) for s in range(seeds)]
    cfg = _config(sim, out, kind, names[0], 0, overrides)
    truth = {s: metrics.load_truth(sim/'ground_truth', s) for s in SETS}
    def one(runs, weighting):
        r = dict(model=kind, runs=runs, seeds=len(runs), weighting=weighting if len(runs) > 1 else 'single')
        for s in SETS:
            for m, v in scores(predict_set(cfg, runs, s, weighting=weighting), truth[s]).items(): r[f'{s}_{m}'] = v
        return r
    rows = [one([n], 'equal') for n in names]
    rows += [one(names[:k], w) for k in ENSEMBLE_SIZES if 1 < k <= seeds for w in WEIGHTINGS]
    return rows


def _trs(batch) -> int: return int(batch['mask'].sum())


def throughput(sim:Path, out:Path, kind:str, steps:int=20, warmup:int=3, overrides=()) -> dict:
    "TRs per second of the training DataLoader alone (one full epoch) and of the model alone (`steps` steps, one batch)"
    import torch
    from algonauts import train as T
    from algonauts.data import split_sources, fit_stats, FMRIDataset, make_loader
    from algonauts.model import build_model
    from algonauts.loss import make_loss
    cfg = _config(sim, out, kind, overrides=overrides)
    src = split_sources(cfg, 'train')
    ds = FMRIDataset(cfg, src, fit_stats(cfg, src))
    loader = lambda: make_loader(ds, cfg.train.batch_size, shuffle=True, num_workers=cfg.data.num_workers)  # as training builds it
    res = {}
    for name in ('loader_first', 'loader'):  # the first epoch also reads each run once for its z-score statistics
        t, n = time.time(), 0
        for b in loader(): n += _trs(b)
        res[f'{name}_trs_s'] = n / (time.time() - t)
    T.seed_everything(cfg.train.seed)
    model, loss_fn = build_model(cfg).train(), make_loss(cfg)
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.train.lr, weight_decay=cfg.train.weight_decay)
    b = next(iter(loader()))
    def step():  # as Learner.one_batch: the batch prepared (features float32, standardised), the model sees `mask`
        p = ds.prepare(b)  # (lead-in included), the loss takes `loss_mask`
        loss = loss_fn.on_batch(model(p['feats'], p['subject'], p['mask'], p['present']), p, model)['total']
        opt.zero_grad(set_to_none=True); loss.backward()
        if cfg.train.grad_clip: torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.train.grad_clip)
        opt.step()
    for _ in range(warmup): step()
    t = time.time()
    for _ in range(steps): step()
    res['model_trs_s'] = steps * _trs(b) / (time.time() - t)
    res['batch'], res['window'] = cfg.train.batch_size, cfg.data.window
    return res


def worker(task:str, sim:Path, out:Path, kind:str, result:Path, seed:int=0, seeds:int=1, overrides=(), threads:int=THREADS):
    import torch
    torch.set_num_threads(threads)
    row = (pipeline(sim, out, kind, seed, overrides) if task == 'pipeline' else ensemble(sim, out, kind, seeds, overrides)
           if task == 'ensemble' else throughput(sim, out, kind, overrides=overrides))
    result.write_text(json.dumps(row))


def _load1() -> float: return os.getloadavg()[0]


def run_child(task:str, sim:Path, out:Path, kind:str, seed:int=0, seeds:int=1, overrides=(), threads:int=THREADS) -> dict:
    "Run `task` for `kind` in a subprocess; its result plus wall seconds, peak RSS (MiB) of that child alone and the load average"
    result = out/f"{task}-{run_name(kind, seed if task == 'pipeline' else seeds, overrides)}.json"
    result.unlink(missing_ok=True)
    env = {**os.environ, 'OMP_NUM_THREADS': str(threads), 'MKL_NUM_THREADS': str(threads), 'WANDB_MODE': 'disabled',
           'PYTHONPATH': os.pathsep.join([str(ROOT), os.environ.get('PYTHONPATH', '')]).rstrip(os.pathsep)}
    cmd = [sys.executable, __file__, '--worker', task, '--sim', str(sim), '--out', str(out), '--models', kind,
           '--seed', str(seed), '--seeds', str(seeds), '--threads', str(threads)] + (['--set', *overrides] if overrides else [])
    t, load0 = time.time(), _load1()
    p = subprocess.Popen(cmd, env=env, cwd=ROOT)
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.time() - t
    if os.waitstatus_to_exitcode(status) != 0: raise RuntimeError(f"{task} {kind}: worker exited with {os.waitstatus_to_exitcode(status)}")
    extra = {'wall_s': wall, 'rss_mib': ru.ru_maxrss / 1024, 'load_start': load0, 'load_end': _load1()}  # ru_maxrss: KiB on Linux
    res = json.loads(result.read_text())
    return [{**r, **extra} for r in res] if isinstance(res, list) else {**res, **extra}


def _f(x, p='.0f') -> str: return '—' if x is None else format(x, p)


def table(rows:list, tput:dict) -> str:
    "Markdown table of the fits, one row per run, scores under both metrics"
    head = ('| run | lead-in windows | val r | epochs | S7 r | S7 / ceiling | OOD r | OOD / ceiling | S7 r (old) | OOD r (old) '
            '| fit s | predict s | wall s | peak RSS MiB | load 1 min | loader TR/s (1st epoch) | loader TR/s | model TR/s |')
    lines = [head, '|' + '---|' * (head.count('|') - 1)]
    for r in rows:
        t = tput.get((r['model'], tuple(r['overrides'])), {}) if r['seed'] == 0 else {}
        lines.append(f"| {r['run']} | {r['lead_windows']} / {r['windows']} | {r['val']:.4f} | {r['epochs']} "
                     f"| {r['s7_new']:.4f} | {r['s7_new'] / r['s7_ceiling_new']:.3f} | {r['ood_new']:.4f} | {r['ood_new'] / r['ood_ceiling_new']:.3f} "
                     f"| {r['s7_old']:.4f} | {r['ood_old']:.4f} | {_f(r['fit_s'], '.1f')}{' (reused)' * r['reused']} "
                     f"| {r['s7_predict_s'] + r['ood_predict_s']:.1f} | {r['wall_s']:.1f} | {r['rss_mib']:.0f} "
                     f"| {r['load_start']:.1f}–{r['load_end']:.1f} | {_f(t.get('loader_first_trs_s'))} | {_f(t.get('loader_trs_s'))} "
                     f"| {_f(t.get('model_trs_s'))} |")
    r0 = rows[0]
    lines.append(f"\nNoise ceiling, new metric: S7 {r0['s7_ceiling_new']:.4f}, OOD {r0['ood_ceiling_new']:.4f}; "
                 f"old metric: S7 {r0['s7_ceiling_old']:.4f}, OOD {r0['ood_ceiling_old']:.4f}.")
    if tput: lines.append('Throughput (loader, model TR/s) was measured with load averages ' + ', '.join(
        f"{k[0]}{' ' + variant(k[1]) if k[1] else ''}: {v['load_start']:.1f}–{v['load_end']:.1f}" for k, v in tput.items()) + '.')
    return '\n'.join(lines)


def ensemble_table(ens:dict) -> str:
    "Markdown table of seed ensembles: one seed (mean of the seeds alone, and seed 0), then 3 and 5 seeds by weighting"
    head = '| model | seeds | weights | S7 r | S7 vs 1 seed (mean) | OOD r | OOD vs 1 seed (mean) | S7 r (old) | OOD r (old) |'
    lines = [head, '|' + '---|' * (head.count('|') - 1)]
    cols = [f'{s}_{m}' for m in METRICS for s in SETS]
    for k, rows in ens.items():
        single = [r for r in rows if r['weighting'] == 'single']
        mean = {c: sum(r[c] for r in single) / len(single) for c in cols}
        show = [(f"1 (mean of seeds 0–{len(single) - 1})", '—', mean), ('1 (seed 0)', '—', single[0])]
        show += [(str(r['seeds']), r['weighting'], r) for r in rows if r['weighting'] != 'single']
        for n, w, r in show:
            gain = lambda s: f"{100 * (r[s] / mean[s] - 1):+.1f} %"
            lines.append(f"| {k} | {n} | {w} | {r['s7_new']:.4f} | {gain('s7_new')} | {r['ood_new']:.4f} | {gain('ood_new')} "
                         f"| {r['s7_old']:.4f} | {r['ood_old']:.4f} |")
        lines.append(f"| {k} | seeds alone | — | {' '.join(format(r['s7_new'], '.4f') for r in single)} | | "
                     f"{' '.join(format(r['ood_new'], '.4f') for r in single)} | | | |")
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
    p.add_argument('--seeds', type=int, default=1, help='fit seeds 0..N-1 of every model and score their ensembles (1, 3, 5 seeds)')
    p.add_argument('--lead-in', type=int, nargs='+', default=None, help='fit every model once per data.lead_in value')
    p.add_argument('--set', nargs='+', default=[], metavar='KEY=VALUE', help='config overrides for every fit')
    p.add_argument('--no-throughput', action='store_true', help='skip the DataLoader / model throughput measurement')
    p.add_argument('--threads', type=int, default=THREADS, help='torch (and OpenMP) threads of every fit; on a loaded machine 1 '
                   'avoids OpenMP threads waiting on each other (bench/results.md, 2026-12-02)')
    p.add_argument('--worker', default=None, help=argparse.SUPPRESS)
    p.add_argument('--seed', type=int, default=0, help=argparse.SUPPRESS)
    a = p.parse_args(argv)
    sim, out = a.sim.resolve(), a.out.resolve()
    if a.worker:
        return worker(a.worker, sim, out, a.models[0], out/f"{a.worker}-{run_name(a.models[0], a.seed if a.worker == 'pipeline' else a.seeds, a.set)}.json",
                      a.seed, a.seeds, a.set, a.threads)
    for f in ('features/features.yaml', 'ground_truth/s7.h5', 'ground_truth/ood.h5'):
        if not (sim/f).exists(): p.error(f"{sim/f} not found: simulate first (algonauts-simulate {sim} --size small)")
    if a.threads < 1: p.error(f"--threads {a.threads}: expected at least 1")
    if a.seeds < 1: p.error(f"--seeds {a.seeds}: expected at least 1")
    if any('=' not in o for o in a.set): p.error(f"--set {a.set}: expected KEY=VALUE items")
    out.mkdir(parents=True, exist_ok=True)
    variants = [a.set + [f'data.lead_in={v}'] for v in a.lead_in] if a.lead_in else [a.set]
    rows, tput, ens = [], {}, {}
    def log(x):
        print(json.dumps(x), flush=True)
        with open(out/'rows.jsonl', 'a') as f: f.write(json.dumps(x) + '\n')
    for k in a.models:
        for ov in variants:
            for seed in range(a.seeds):
                rows.append(run_child('pipeline', sim, out, k, seed, overrides=ov, threads=a.threads)); log(rows[-1])
            if k in TRAINABLE and not a.no_throughput:
                tput[k, tuple(ov)] = run_child('throughput', sim, out, k, overrides=ov, threads=a.threads); log(tput[k, tuple(ov)])
            if a.seeds > 1:
                ens[run_name(k, f'0-{a.seeds - 1}', ov)] = run_child('ensemble', sim, out, k, seeds=a.seeds, overrides=ov, threads=a.threads)
                for r in ens[run_name(k, f'0-{a.seeds - 1}', ov)]: log(r)
    import torch, algonauts
    cmd = 'python bench/benchmark.py ' + ' '.join(argv if argv is not None else sys.argv[1:])
    meta = json.loads((sim/'simulate.json').read_text())
    text = '\n'.join([
        '# Benchmark on the simulated `small` set', '',
        f"- command: `{cmd}`",
        f"- date: {time.strftime('%Y-%m-%d %H:%M')}; algonauts {algonauts.__version__}, torch {torch.__version__}; "
        f"{a.threads} torch threads on CPU ({os.cpu_count()} cores visible); params `{PARAMS}`; W&B disabled",
        f"- simulation: `{sim}` ({meta.get('size')}, seed {meta.get('seed')})",
        '- fit = train with validation + retrain on train+val; S7 / OOD r = the challenge rules (trim 5 per run, OOD per '
        'film then averaged); (old) = the same predictions under the earlier one-series metric (`trim=0, group=\'none\'`); '
        'val r = the validation metric (trim 5); lead-in windows = training windows that get `data.lead_in` earlier TRs '
        '(whole-run windows get none); wall and peak RSS are those of the fit\'s own subprocess (`os.wait4`); load 1 min = '
        'the machine\'s 1-minute load average at the start and end of that subprocess (shared machine: times depend on '
        'it, scores do not); throughput counts the TRs the model sees: loader = iterating the training DataLoader with no '
        'model, model = preparing the batch (features float32, standardised) + forward+backward+AdamW step on one batch held in memory.', '', table(rows, tput), ''] +
        (['## Seed ensembles', '', ensemble_table(ens), ''] if ens else []))
    print(text)
    a.results.write_text(text)


if __name__ == '__main__': main()
