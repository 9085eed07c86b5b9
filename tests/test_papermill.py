"""nbs/train.ipynb under papermill calls the same library functions as the CLI: same parameters, same run."""
import os, subprocess, sys
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
    paths = dict(features=sim/'features.yaml', data_dir=sim/'fmri', features_dir=sim/'features', outputs_dir=tmp_path/'out')
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
