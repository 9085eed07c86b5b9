"""The batch scripts on a real single-node SLURM (installed from Debian packages when missing).

Submits slurm/fit.sh and slurm/submission.sh on the tiny simulated set with `sbatch --wait`, checks the
run folder, the executed notebooks (the run's report, with figures) and the submission; then preempts a training job with SLURM's warning
signal and checks that it checkpoints, requeues, resumes and finishes. Skipped, with the reason, only
where SLURM cannot be installed. Set ALGONAUTS_SKIP_SLURM=1 to leave it out.
"""
import json, os, re, shutil, subprocess, sys, time
from pathlib import Path
import pytest
from algonauts import metrics
from algonauts.simulate import simulate

ROOT = Path(__file__).resolve().parents[1]
SMALL = ['--mem=2G', '--cpus-per-task=1', '--gres=none', '--time=15']  # override the production-sized defaults
TINY = ['params=configs/small.yaml', 'overrides=train.epochs=1,logging.wandb_mode=disabled,data.window=16,logging.progress=false']

@pytest.fixture(scope='module')
def cluster(tmp_path_factory):
    if os.environ.get('ALGONAUTS_SKIP_SLURM'): pytest.skip('ALGONAUTS_SKIP_SLURM is set')
    d = tmp_path_factory.mktemp('slurm')
    r = subprocess.run(['bash', ROOT/'tests/slurm_local.sh', 'start', d], capture_output=True, text=True)
    if r.returncode == 77: pytest.skip(r.stderr.strip())
    assert r.returncode == 0, r.stdout + r.stderr
    env = {**os.environ, 'SLURM_CONF': str(d/'slurm.conf'), 'PATH': f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    env.pop('ALGONAUTS_TEST_FLAGS', None)
    yield env
    subprocess.run(['bash', ROOT/'tests/slurm_local.sh', 'stop', d], capture_output=True)

@pytest.fixture(scope='module')
def sim(tmp_path_factory):
    out = tmp_path_factory.mktemp('sim')
    simulate(out, 'tiny', seed=3, progress=False)
    return out

def paths(sim, outputs):
    return [f'features={sim}/features/features.yaml', f'data_dir={sim}/fmri', f'features_dir={sim}/features', f'outputs_dir={outputs}']

def sbatch(env, log, script, *args, wait=True):
    cmd = ['sbatch', '--parsable', *SMALL, f'--output={log}', *(['--wait'] if wait else []), script, *args]
    r = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    return r, r.stdout.strip().split(';')[0]

def test_fit_and_submission(cluster, sim, tmp_path):
    out = tmp_path/'out'
    r, job = sbatch(cluster, tmp_path/'fit.log', 'slurm/fit.sh', 'name=sl', *TINY, *paths(sim, out))
    assert r.returncode == 0, (tmp_path/'fit.log').read_text()[-3000:]
    run = out/'checkpoints/sl'
    for f in ['config.yaml', 'meta.json', 'final.pt', 'train_result.json', 'retrain_result.json', 'fit.ipynb']: assert (run/f).exists(), f
    outputs = _outputs(run/'fit.ipynb')  # the executed notebook is the run's report: the result and the figures
    assert '"retrain"' in _text(outputs) and any('image/png' in o.get('data', {}) for o in outputs)
    r, job = sbatch(cluster, tmp_path/'sub.log', 'slurm/submission.sh', 'checkpoint=sl', 'submission=slsub', *TINY, *paths(sim, out))
    assert r.returncode == 0, (tmp_path/'sub.log').read_text()[-3000:]
    for s in ['s7', 'ood']:
        sub = metrics.load_submission(out/f'submissions/slsub_{s}.zip')
        metrics.validate_submission(sub, metrics.read_samples(sim/'fmri', s))
    text = _text(_outputs(out/'submissions/slsub_submit.ipynb'))  # the archives and their validation
    assert 'slsub_s7.zip' in text and 'slsub_ood.zip' in text and 'valid' in text
    assert not list(out.rglob('.*ipynb'))  # the notebooks were written aside while running, then moved into place

def _outputs(path): return [o for c in json.loads(Path(path).read_text())['cells'] if c['cell_type'] == 'code' for o in c['outputs']]
def _text(outputs): return ''.join(''.join(o.get('text', '')) + ''.join(o.get('data', {}).get('text/plain', '')) for o in outputs)

@pytest.mark.parametrize('script,args,msg', [
    ('slurm/fit.sh', ['name=../x', 'data_dir=/d'], "name '../x' leaves"),
    ('slurm/retrain.sh', ['checkpoint=/etc/x'], "checkpoint '/etc/x' leaves"),
    ('slurm/submission.sh', ['checkpoint=r', 'submission=a/../../b'], "submission 'a/../../b' leaves"),
    ('slurm/fit.sh', ['name=r', 'data_dir=', 'features_dir='], 'no data'),
    ('slurm/fit.sh', ['name'], "argument 'name' is not key=value")])
def test_scripts_refuse_bad_input(tmp_path, script, args, msg):
    "The batch scripts stop with exit 2 and a message before anything runs or is written (no SLURM needed)"
    env = {k: v for k, v in os.environ.items() if k not in ('DATA_DIR', 'FEATURES_DIR', 'CHECKPOINT_DIR')}
    env.update(ALGONAUTS_SETUP='/nonexistent', PAPERMILL='false', OUTPUTS_DIR=str(tmp_path/'out'))
    r = subprocess.run(['bash', ROOT/script, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert r.returncode == 2 and msg in r.stderr, r.stderr
    assert not (tmp_path/'out').exists()

def _squeue(env, job):
    return subprocess.run(['squeue', '-h', '-j', job, '-o', '%T'], env=env, capture_output=True, text=True).stdout.strip()

def test_preempted_job_resumes(cluster, sim, tmp_path):
    out = tmp_path/'out'; log = tmp_path/'pre.log'
    long = ['params=configs/small.yaml', 'overrides=train.epochs=6,train.patience=100,logging.wandb_mode=disabled,data.window=16,logging.progress=false']
    r, job = sbatch(cluster, log, 'slurm/train.sh', 'name=pre', *long, *paths(sim, out), wait=False)
    assert r.returncode == 0, r.stderr
    run = out/'checkpoints/pre'
    for _ in range(600):
        if (run/'metrics.jsonl').exists(): break
        time.sleep(0.2)
    subprocess.run(['scancel', '--signal=USR1', '--batch', job], env=cluster, check=True)  # SLURM's warning signal
    for _ in range(300):
        if _squeue(cluster, job) == 'PENDING': break
        time.sleep(0.2)
    assert _squeue(cluster, job) == 'PENDING', 'job was not requeued'
    # A requeued job waits ~120 s unless told to start now; told too soon after the requeue, slurmctld
    # kills it ("job credential revoked"), so give the old allocation a few seconds to clear first.
    time.sleep(5)
    subprocess.run(['scontrol', 'update', f'JobId={job}', 'StartTime=now'], env=cluster, check=True)
    for _ in range(2400):  # the resumed attempt trains the remaining epochs: up to 20 min on a loaded machine
        if not _squeue(cluster, job): break
        time.sleep(0.5)
    text = log.read_text()
    m = re.search(r'signal SIGUSR1: checkpoint saved at epoch (\d+), batch (\d+)', text)
    assert m and int(m.group(1)) < 6, text[-3000:]
    assert '(attempt 1)' in text and (run/'train_result.json').exists(), text[-3000:]
    assert len((run/'metrics.jsonl').read_text().splitlines()) == 6

def test_optuna_sweep_array(cluster, sim, tmp_path):
    "The offline sweep as a SLURM array: two tasks share one Optuna journal file"
    import yaml, optuna
    from optuna.storages import JournalStorage
    from optuna.storages.journal import JournalFileBackend
    spec = yaml.safe_load((ROOT/'configs/sweep.yaml').read_text())
    spec['parameters'] = {'train.lr': spec['parameters']['train.lr'], 'model.hidden': {'values': [16, 32]}}
    (tmp_path/'sweep.yaml').write_text(yaml.safe_dump(spec))
    args = ['--study', 'arr', '--sweep', str(tmp_path/'sweep.yaml'), '--params', '', '--features', f'{sim}/features/features.yaml',
            '--data_dir', f'{sim}/fmri', '--features_dir', f'{sim}/features', '--outputs_dir', str(tmp_path/'out'),
            '--set', 'train.epochs=1', '--set', 'model.n_heads=2', '--set', 'logging.wandb_mode=disabled', '--set', 'logging.progress=false']
    r = subprocess.run(['sbatch', '--parsable', '--wait', '--array=0-1', *SMALL, f'--output={tmp_path}/opt-%a.out',
                        'slurm/sweep_optuna.sh', *args], cwd=ROOT, env=cluster, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr + ''.join(p.read_text()[-2000:] for p in tmp_path.glob('opt-*.out'))
    study = optuna.load_study(study_name='arr', storage=JournalStorage(JournalFileBackend(str(tmp_path/'out/sweeps/arr.journal'))))
    assert len([t for t in study.trials if t.state.name == 'COMPLETE']) == 2

def test_extract_array(cluster, tmp_path):
    "slurm/extract.sh as a 2-task array, one Friends season each, classic streams; a second run skips everything"
    import yaml
    from algonauts.extract import synthetic_movie
    stim = tmp_path/'stim'
    for s in (1, 2):
        synthetic_movie(stim/f'movies/friends/s{s}/friends_s0{s}e01a.mkv', 6, fps=4, size=(16, 12), sample_rate=8000, flashes=[(2, 3)])
    (tmp_path/'x.yaml').write_text(yaml.safe_dump({'streams': {'lum': {'kind': 'video_classic'}, 'snd': {'kind': 'audio_classic', 'n_mfcc': 4, 'sample_rate': 8000}}}))
    args = [str(tmp_path/'x.yaml'), '--stimuli_dir', str(stim), '--features_dir', str(tmp_path/'feats'), '--movies', 'friends', '--streams', 'lum']
    r = subprocess.run(['sbatch', '--parsable', '--wait', '--array=1-2', *SMALL, f'--output={tmp_path}/ex-%a.out', 'slurm/extract.sh', *args],
                       cwd=ROOT, env=cluster, capture_output=True, text=True, timeout=600)
    logs = ''.join(p.read_text() for p in sorted(tmp_path.glob('ex-*.out')))
    assert r.returncode == 0, r.stderr + logs[-3000:]
    assert logs.count('lum: width 7, 1 written, 0 skipped') == 2, logs  # each task did its own season
    assert sorted(p.name for p in (tmp_path/'feats/lum').glob('*.npy')) == ['friends_s01e01a.npy', 'friends_s02e01a.npy']
    assert yaml.safe_load((tmp_path/'feats/features.yaml').read_text())['input_dims'] == {'lum': 7}
    r = subprocess.run(['sbatch', '--parsable', '--wait', *SMALL, f'--output={tmp_path}/ex-all.out', 'slurm/extract.sh', *args],
                       cwd=ROOT, env=cluster, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0 and 'lum: width 7, 0 written, 2 skipped' in (tmp_path/'ex-all.out').read_text()
