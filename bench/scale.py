"""Scale benchmark on the full-size simulated world (real TR counts, streams 2048, 1024 and 4096 wide): every figure measured in one run.

`python bench/scale.py --sim /work/fullsim --out /tmp/scale [--models fmri tconv ridge] [--steps 20] [--epoch]`

Each model runs in its own subprocess (`--worker`) on `configs/params.yaml` with `model.kind` set, 2 torch threads.
Every DataLoader is built and started as training does it (`algonauts.data.make_loader`, `algonauts.train.start_workers`):
spawned workers that ignore stop signals and read each batch (`FMRIDataset.batch`) straight into one segment of shared
memory, features as the files hold them (float16 here); the training step prepares it (`FMRIDataset.prepare`: float32, standardised).
- stats s: feature statistics of the training split, measured once and cached in OUT/stats.npz for the other models.
- fmri, tconv: *first step s* from the subprocess's start (imports, dataset, model, DataLoader with params.yaml's
  workers, first batch, forward, backward, AdamW step); *steps/s* and *TR/s* over the next `--steps` steps with
  that DataLoader (training as it runs); *model TR/s* prepare+forward+backward+step on one batch held in memory (the
  model alone); *loader TR/s* the training DataLoader alone with 0, 2 and 4 workers over `--loader_batches`
  batches after its first (the start-up, worker starts included, is reported apart; up to 2 batches per worker
  may have been prefetched by then); *epoch s* one real epoch
  with `--epoch`, else steps per epoch / steps/s, marked "extrapolated".
- ridge: *fit s* of `RidgeModel.fit` over a lazily read whole-run training dataset (pass 1 PCA, pass 2 sums, then the
  solve), its TR/s (training TRs / fit s), the share of the passes spent reading runs, and the validation r
  (official rules); *loader TR/s* the whole-run DataLoader alone (batch 1) with 0, 2 and 4 workers. The fit is
  its epoch.
- peak PSS per phase: sum of `Pss` over `/proc/PID/smaps_rollup` of the subprocess and all its descendants
  (DataLoader workers), sampled every 0.2 s by a thread; `anon` is the same sum of `Pss_Anon` at that peak (the
  rest is file pages: libraries and other mapped files; .npy features are read, not mapped). Peak RSS of the subprocess from `os.wait4`.
Goals (issue 11): loader TR/s (4 workers) >= 5x the model's TR/s; peak PSS < 4 GB with 4 workers.
"""
from __future__ import annotations
import time
T0 = time.time()  # the worker's start: time to the first step counts from here
import argparse, json, os, subprocess, sys, threading
from pathlib import Path
from benchmark import parser, THREADS, ROOT

PARAMS = 'configs/params.yaml'  # the real-data profile
TRAINABLE = ('fmri', 'tconv')
WORKERS = (0, 2, 4)  # DataLoader workers measured
MiB = 2 ** 20


def _config(sim:Path, out:Path, kind:str, overrides=()):
    from algonauts.config import load_config
    vals = {'model.kind': kind, 'logging.wandb_mode': 'disabled', 'logging.progress': False}
    return load_config(ROOT/PARAMS, sim/'features'/'features.yaml', overrides=list(overrides), values=vals, data_dir=sim/'fmri',
                       features_dir=sim/'features', outputs_dir=out)


def _rollup(pid:int) -> dict:
    "Pss and Pss_Anon (bytes) of one process, from /proc/PID/smaps_rollup; empty if it has gone"
    try: lines = Path(f'/proc/{pid}/smaps_rollup').read_text().splitlines()
    except OSError: return {}
    return {k: int(v.split()[0]) * 1024 for k, v in (l.split(':', 1) for l in lines[1:]) if k in ('Pss', 'Pss_Anon')}


def _tree(pid:int) -> list:
    "`pid` and all its descendants, from the parent ids in /proc/*/stat"
    kids = {}
    for d in Path('/proc').iterdir():
        if not d.name.isdigit(): continue
        try: kids.setdefault(int((d/'stat').read_text().rsplit(')', 1)[1].split()[1]), []).append(int(d.name))
        except (OSError, IndexError, ValueError): pass  # gone meanwhile
    out, todo = [], [pid]
    while todo: p = todo.pop(); out.append(p); todo += kids.get(p, [])
    return out


class PSSMonitor(threading.Thread):
    "Samples the summed Pss of this process and its descendants every `every` s; `phase(name)` starts a new peak"
    def __init__(self, every:float=0.2):
        super().__init__(daemon=True)  # (`name` is the thread's own attribute: the phase is `current`)
        self.every, self.current, self.peaks, self.lock = every, None, {}, threading.Lock()
    def phase(self, name): self.sample(); self.current = name
    def sample(self):
        rs = [_rollup(p) for p in _tree(os.getpid())]
        pss, anon = (sum(r.get(k, 0) for r in rs) / MiB for k in ('Pss', 'Pss_Anon'))
        with self.lock:
            if self.current and pss > self.peaks.get(self.current, {}).get('pss', -1):
                self.peaks[self.current] = dict(pss=pss, anon=anon, procs=len(rs))
    def run(self):
        while True:
            try: self.sample()
            except (OSError, ValueError, IndexError): pass  # a process that ended while it was read: the next sample counts
            time.sleep(self.every)


def _trs(batch) -> int: return int(batch['mask'].sum())


def _stats(cfg, out:Path, src):
    "Feature statistics of the training split, computed once per benchmark run"
    from algonauts.data import fit_stats, FeatureStats
    path = out/'stats.npz'
    if path.exists(): return FeatureStats.load(path), None
    t = time.time(); stats = fit_stats(cfg, src); dt = time.time() - t
    stats.save(path); return stats, dt


def _batches(ds, batch_size:int, workers:int, seed:int):
    "A shuffled DataLoader over `ds` built as training builds it (`make_loader` with `worker_init`), started as training starts it"
    from algonauts.data import make_loader
    from algonauts.train import worker_init, start_workers
    return start_workers(make_loader(ds, batch_size, shuffle=True, num_workers=workers, seed=seed, worker_init=worker_init))


def loader_rates(ds, batch_size:int, n_batches:int, mon:PSSMonitor, tag:str) -> dict:
    "TR/s of a shuffled DataLoader over `ds` alone, with each number of workers; start-up (first batch) apart"
    res = {}
    for w in WORKERS:
        mon.phase(f'{tag}loader_w{w}')
        t = time.time(); it = _batches(ds, batch_size, w, 0); next(it); res[f'loader_w{w}_start_s'] = time.time() - t
        t, n, k = time.time(), 0, 0
        for b in it:
            n += _trs(b); k += 1
            if k == n_batches: break
        res[f'loader_w{w}_trs_s'] = n / (time.time() - t); res[f'loader_w{w}_batches'] = k
        del it
    return res


def train_task(cfg, out:Path, a, mon:PSSMonitor) -> dict:
    "fmri / tconv: first step, steps/s with the training DataLoader, model alone, loaders alone, one epoch"
    import torch
    from algonauts.data import split_sources, FMRIDataset
    from algonauts.model import build_model
    from algonauts.loss import make_loss
    from algonauts import train as T
    mon.phase('first_step')
    src = split_sources(cfg, 'train'); stats, stats_s = _stats(cfg, out, src)
    res = dict(stats_s=stats_s)
    ds = FMRIDataset(cfg, src, stats)
    T.seed_everything(cfg.train.seed)
    model, loss_fn = build_model(cfg).train(), make_loss(cfg)
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.train.lr, weight_decay=cfg.train.weight_decay)
    def step(b):  # as training: the batch prepared (features float32, standardised), forward, backward, AdamW step
        b = ds.prepare(b)
        loss = loss_fn.on_batch(model(b['feats'], b['subject'], b['mask'], b['present']), b, model)['total']  # over b['loss_mask']
        opt.zero_grad(set_to_none=True); loss.backward()
        if cfg.train.grad_clip: torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.train.grad_clip)
        opt.step()
    it = _batches(ds, cfg.train.batch_size, cfg.data.num_workers, 0); b = next(it); step(b)
    res['first_step_s'] = time.time() - T0
    mon.phase('steps'); t, n = time.time(), 0
    for _ in range(a.steps): b = next(it); step(b); n += _trs(b)
    dt = time.time() - t; res.update(steps_s=a.steps / dt, trs_s=n / dt, steps=a.steps, steps_per_epoch=len(it))
    del it
    mon.phase('model_alone')
    for _ in range(2): step(b)
    t = time.time()
    for _ in range(a.steps): step(b)
    res['model_trs_s'] = a.steps * _trs(b) / (time.time() - t)
    res.update(loader_rates(ds, cfg.train.batch_size, a.loader_batches, mon, ''))
    if a.epoch:
        mon.phase('epoch'); t, n = time.time(), 0
        for b in _batches(ds, cfg.train.batch_size, cfg.data.num_workers, 1): step(b); n += _trs(b)
        res.update(epoch_s=time.time() - t, epoch_trs=n, epoch_measured=True)
    else: res.update(epoch_s=res['steps_per_epoch'] / res['steps_s'], epoch_measured=False)
    res.update(batch=cfg.train.batch_size, window=cfg.data.window, workers=cfg.data.num_workers)
    return res


class TimedRuns:
    "Re-iterable `(subject, {stream: T,D}, fmri T,P)` over a whole-run dataset, one run at a time; times each pass and its reads"
    def __init__(self, ds): self.ds, self.passes = ds, []
    def __iter__(self):
        p = dict(start=time.time(), read_s=0., trs=0); self.passes.append(p)
        for i in range(len(self.ds)):
            t = time.time(); s = self.ds[i]; p['read_s'] += time.time() - t; p['trs'] += len(s['fmri'])
            yield s['subject'], {k: v.numpy() for k, v in s['feats'].items()}, s['fmri'].numpy()
            p['end'] = time.time()


def ridge_task(cfg, out:Path, a, mon:PSSMonitor) -> dict:
    "ridge: fit over a lazily read whole-run dataset (two passes), validation r, whole-run loaders alone"
    import torch, numpy as np
    from algonauts.data import split_sources, FMRIDataset
    from algonauts.model import build_model
    from algonauts import metrics
    mon.phase('fit')
    src = split_sources(cfg, 'train'); stats, stats_s = _stats(cfg, out, src)
    res = dict(stats_s=stats_s)
    runs, model = TimedRuns(FMRIDataset(cfg, src, stats, windows=False)), build_model(cfg)
    t = time.time(); model.fit(runs); res['fit_s'] = time.time() - t
    res['first_step_s'] = time.time() - T0  # the ridge's one step is its fit
    res['passes'] = [dict(s=p['end'] - p['start'], read_s=p['read_s'], trs=p['trs']) for p in runs.passes]
    res['solve_s'] = t + res['fit_s'] - runs.passes[-1]['end']
    res['pca_s'] = runs.passes[1]['start'] - runs.passes[0]['end'] if len(runs.passes) > 1 else 0.  # eigenpairs between the passes
    res['trs'] = runs.passes[-1]['trs']; res['trs_s'] = res['trs'] / res['fit_s']
    res['read_share'] = sum(p['read_s'] for p in runs.passes) / res['fit_s']
    mon.phase('validate')
    val = FMRIDataset(cfg, split_sources(cfg, 'val'), stats, windows=False)
    pred, truth = {}, {}
    with torch.no_grad():
        for i, s in enumerate(val.sources):
            x = val[i]; sub, key = s.subject, f"{s.clip}#{i}"
            pred.setdefault(sub, {})[key] = model({k: v[None] for k, v in x['feats'].items()}, torch.tensor([x['subject']]),
                                                  present=x['present'][None])[0].numpy()
            truth.setdefault(sub, {})[key] = x['fmri'].numpy()
    res['val_r'] = metrics.score(pred, truth, trim=cfg.train.trim).score
    res.update(loader_rates(FMRIDataset(cfg, src, stats, windows=False), 1, a.ridge_loader_runs, mon, ''))
    res.update(epoch_s=res['fit_s'], epoch_measured=True, pca=cfg.model.ridge_pca, alphas=len(cfg.model.ridge_alphas))
    return res


def worker(kind:str, sim:Path, out:Path, a, result:Path):
    import torch
    torch.set_num_threads(THREADS)
    mon = PSSMonitor(); mon.start()
    cfg = _config(sim, out, kind, a.set)
    row = (ridge_task if kind == 'ridge' else train_task)(cfg, out, a, mon)
    mon.phase(None)
    row.update(model=kind, peaks=mon.peaks)
    result.write_text(json.dumps(row))


def run_child(kind:str, argv:list, out:Path, mmap_threshold:int=None) -> dict:
    "Run `kind` in a subprocess; its result plus wall seconds and peak RSS (MiB) of that child"
    result = out/f'scale-{kind}.json'
    result.unlink(missing_ok=True)
    env = {**os.environ, 'OMP_NUM_THREADS': str(THREADS), 'MKL_NUM_THREADS': str(THREADS), 'WANDB_MODE': 'disabled',
           'PYTHONPATH': os.pathsep.join([str(ROOT), os.environ.get('PYTHONPATH', '')]).rstrip(os.pathsep),
           **({'MALLOC_MMAP_THRESHOLD_': str(mmap_threshold)} if mmap_threshold else {})}  # glibc: a fixed threshold
    t = time.time()
    p = subprocess.Popen([sys.executable, __file__, '--worker', kind, *argv], env=env, cwd=ROOT)
    _, status, ru = os.wait4(p.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0: raise RuntimeError(f"{kind}: worker exited with {os.waitstatus_to_exitcode(status)}")
    return {**json.loads(result.read_text()), 'wall_s': time.time() - t, 'rss_mib': ru.ru_maxrss / 1024}


def _f(x, p='.0f'): return '—' if x is None else format(x, p)


def _peak(r, *phases):
    "The largest PSS peak (GiB) over `phases` of row `r`, with its anonymous part"
    pk = [r['peaks'][p] for p in phases if p in r['peaks']]
    if not pk: return '—'
    m = max(pk, key=lambda d: d['pss'])
    return f"{m['pss'] / 1024:.2f} ({m['anon'] / 1024:.2f} anon, {m['procs']} proc)"


def _passes(r) -> str: return ', '.join(f"{q['s']:.0f} s ({q['read_s']:.0f} s reading)" for q in r['passes'])


def table(rows:list) -> str:
    "Markdown tables: speed, then memory and goals"
    head = ('| model | first step s | steps/s | TR/s | model alone TR/s | loader TR/s w0 / w2 / w4 | loader start s w0 / w2 / w4 '
            '| epoch s | peak RSS MiB |')
    lines = [head, '|' + '---|' * (head.count('|') - 1)]
    for r in rows:
        w = ' / '.join(_f(r.get(f'loader_w{k}_trs_s')) for k in WORKERS)
        ws = ' / '.join(_f(r.get(f'loader_w{k}_start_s'), '.1f') for k in WORKERS)
        ep = _f(r['epoch_s']) + ('' if r['epoch_measured'] else ' (extrapolated)')
        lines.append(f"| {r['model']} | {r['first_step_s']:.1f} | {_f(r.get('steps_s'), '.3f')} | {r['trs_s']:.0f} "
                     f"| {_f(r.get('model_trs_s'))} | {w} | {ws} | {ep} | {r['rss_mib']:.0f} |")
    lines += ['', '| model | peak PSS GiB: training / fit | loader w0 | loader w2 | loader w4 | epoch | loader w4 / model TR/s | goals met |',
              '|---|---|---|---|---|---|---|---|']
    for r in rows:
        model = r.get('model_trs_s') or r['trs_s']
        ratio = r['loader_w4_trs_s'] / model
        pk4 = max(r['peaks'][p]['pss'] for p in r['peaks'] if p in ('loader_w4', 'steps', 'epoch', 'fit')) / 1024
        ok = f"{'yes' if ratio >= 5 else 'NO'} (x5 loader), {'yes' if pk4 < 4 else 'NO'} (< 4 GB)"
        lines.append(f"| {r['model']} | {_peak(r, 'first_step', 'steps', 'fit')} | {_peak(r, 'loader_w0')} | {_peak(r, 'loader_w2')} "
                     f"| {_peak(r, 'loader_w4')} | {_peak(r, 'epoch')} | {ratio:.1f} | {ok} |")
    return '\n'.join(lines)


def main(argv=None):
    p = parser(__doc__, 'folder for the cached statistics and per-model results', ['fmri', 'tconv', 'ridge'], ROOT/'bench'/'scale.md')
    p.add_argument('--steps', type=int, default=20, help='timed training steps (and model-alone steps)')
    p.add_argument('--loader_batches', type=int, default=100, help='batches timed per DataLoader setting (fmri, tconv)')
    p.add_argument('--ridge_loader_runs', type=int, default=60, help='whole runs timed per DataLoader setting (ridge)')
    p.add_argument('--epoch', action='store_true', help='run one real epoch (else it is extrapolated from steps/s)')
    p.add_argument('--set', nargs='*', default=[], help='config overrides key=value (e.g. model.ridge_pca=100)')
    p.add_argument('--mmap_threshold', type=int, default=None, help='bytes: run the models with glibc MALLOC_MMAP_THRESHOLD_ '
                   'fixed (arrays above it always get their own mapping, so freed ones cannot leave holes in the heap)')
    p.add_argument('--worker', default=None, help=argparse.SUPPRESS)
    argv = sys.argv[1:] if argv is None else argv
    a = p.parse_args(argv)
    sim, out = a.sim.resolve(), a.out.resolve()
    if a.worker: return worker(a.worker, sim, out, a, out/f'scale-{a.worker}.json')
    if not (sim/'features'/'features.yaml').exists(): p.error(f"{sim/'features'/'features.yaml'} not found: simulate first (algonauts-simulate {sim} --size full)")
    out.mkdir(parents=True, exist_ok=True)
    child = [x for x in argv if x not in a.models and x != '--models']
    rows = []
    for k in a.models:
        rows.append(run_child(k, child + ['--models', k], out, a.mmap_threshold)); print(json.dumps(rows[-1]), flush=True)
    import torch, algonauts
    info = json.loads((sim/'simulate.json').read_text())
    st = next((r['stats_s'] for r in rows if r.get('stats_s')), None)
    ridge = [r for r in rows if r['model'] == 'ridge']
    text = '\n'.join([
        '# Scale benchmark on the full-size simulated world', '',
        f"- command: `python bench/scale.py {' '.join(argv)}`",
        f"- date: {time.strftime('%Y-%m-%d %H:%M')}; algonauts {algonauts.__version__}, torch {torch.__version__}; "
        f"{THREADS} torch threads on CPU ({os.cpu_count()} cores visible, shared); params `{PARAMS}` with model.kind set; "
        f"overrides {a.set or 'none'}; glibc MALLOC_MMAP_THRESHOLD_ {a.mmap_threshold or 'unset (dynamic)'}",
        f"- world: `{sim}` (size {info.get('size')}, seed {info.get('seed')}; training TRs per subject "
        f"{info.get('train_trs')}; streams {info.get('streams')}, stored {info.get('feature_dtype')})",
        f"- feature statistics of the training split: {_f(st, '.1f')} s (once; not in first step)", '',
        table(rows), ''] + ([
        f"Ridge (ridge_pca {r['pca']}, {r['alphas']} penalties): fit {r['fit_s']:.0f} s over {r['trs']} subject-TRs "
        f"(passes: {_passes(r)}; PCA eigenpairs {r['pca_s']:.0f} s; solve {r['solve_s']:.0f} s); "
        f"validation r {r['val_r']:.4f}." for r in ridge]) + ['', __doc__.split('\n\n', 1)[1].strip(), ''])
    print(text)
    a.results.write_text(text)


if __name__ == '__main__': main()
