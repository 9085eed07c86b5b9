"""nbs/train.ipynb under papermill: with no arguments a smoke run whose report shows figures; with parameters the same
library functions as the CLI (same parameters, same run)."""
import json, os, subprocess, sys
from pathlib import Path
import torch
from algonauts.config import from_yaml
from algonauts.simulate import simulate

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent

def test_papermill_equals_cli(tmp_path):
    sim = tmp_path/'sim'; simulate(sim, 'tiny', seed=4, progress=False)
    env = {**os.environ, 'OMP_NUM_THREADS': '1', 'MKL_NUM_THREADS': '1'}  # bit-for-bit comparable runs
    sets = 'train.epochs=1,logging.wandb_mode=disabled,data.window=16,model.hidden=16,model.n_heads=2,logging.progress=false'
    paths = dict(features=sim/'features'/'features.yaml', data_dir=sim/'fmri', features_dir=sim/'features', outputs_dir=tmp_path/'out')
    pm = [BIN/'papermill', ROOT/'nbs/train.ipynb', tmp_path/'pm.ipynb', '-k', 'python3', '--cwd', ROOT, '-p', 'stage', 'train',
          '-p', 'name', 'same', '-p', 'seed', '3', '-p', 'params', 'configs/small.yaml', '-p', 'overrides', sets,
          *[x for k, v in paths.items() for x in ('-p', k, str(v))]]
    r = subprocess.run(pm, env=env, capture_output=True, text=True); assert r.returncode == 0, r.stderr[-3000:]
    cli = [BIN/'algonauts-train', '--params', 'configs/small.yaml', '--name', 'same-cli', '--seed', '3',
           *[x for o in sets.split(',') for x in ('--set', o)], *[x for k, v in paths.items() for x in (f'--{k}', str(v))]]
    r = subprocess.run(cli, cwd=ROOT, env=env, capture_output=True, text=True); assert r.returncode == 0, r.stderr[-3000:]
    a, b = (tmp_path/'out/checkpoints'/n for n in ('same', 'same-cli'))
    ca, cb = (from_yaml((d/'config.yaml').read_text()) for d in (a, b))
    ca.logging.run_name = cb.logging.run_name
    assert ca == cb
    wa, wb = (torch.load(d/'best.pt') for d in (a, b))
    assert all(torch.equal(wa[k], wb[k]) for k in wa)

def test_papermill_smoke_default(tmp_path):
    "No parameters and no data: the tiny simulated world in a temporary folder, a tiny fit, figures inline, nothing left"
    env = {k: v for k, v in os.environ.items() if k not in ('DATA_DIR', 'FEATURES_DIR', 'OUTPUTS_DIR', 'CHECKPOINT_DIR')}
    env.update(OMP_NUM_THREADS='1', TMPDIR=str(tmp_path/'tmp')); (tmp_path/'tmp').mkdir()
    out = tmp_path/'out.ipynb'
    r = subprocess.run([BIN/'papermill', ROOT/'nbs/train.ipynb', out, '-k', 'python3'], cwd=ROOT, env=env, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr[-3000:]
    outputs = [o for c in json.loads(out.read_text())['cells'] if c['cell_type'] == 'code' for o in c['outputs']]
    pngs = [o for o in outputs if 'image/png' in o.get('data', {})]
    assert len(pngs) >= 4, f'{len(pngs)} inline PNGs'  # surface map, networks, time series, training curves at least
    text = ''.join(''.join(o.get('text', '')) for o in outputs)
    res = json.loads(text[text.index('{\n "fit"'):])
    assert res['fit']['retrain']['epochs'] >= 1 and res['fit']['run_dir'].startswith(str(tmp_path/'tmp'))  # written in the temporary folder
    assert not list((tmp_path/'tmp').glob('algonauts-smoke-*'))  # and removed at the end
