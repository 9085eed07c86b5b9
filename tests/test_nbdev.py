"""The generated package, the notebooks and the docs stay in sync with `nbs/`."""
import shutil, subprocess, sys
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent

@pytest.fixture(scope='module')
def copy(tmp_path_factory):
    "A copy of the project (without the venv) in which nbdev commands may write freely"
    dst = tmp_path_factory.mktemp('proj')
    for name in ['nbs', 'algonauts', 'pyproject.toml', 'README.md']:
        src = ROOT/name
        (shutil.copytree if src.is_dir() else shutil.copy)(src, dst/name)
    return dst

def _run(cmd, cwd):
    r = subprocess.run([str(BIN/cmd[0]), *cmd[1:]], cwd=cwd, capture_output=True, text=True)
    assert r.returncode == 0, f"{' '.join(cmd)} failed:\n{r.stdout}\n{r.stderr}"
    return r

def _files(root, pattern): return {p.relative_to(root): p.read_bytes() for p in root.glob(pattern)}

def test_export_is_current(copy):
    "nbdev-export leaves the committed modules unchanged"
    _run(['nbdev-export'], copy)
    assert _files(copy, 'algonauts/**/*.py') == _files(ROOT, 'algonauts/**/*.py'), 'run nbdev-export and commit algonauts/'

def test_notebooks_are_clean(copy):
    "nbdev-clean leaves the committed notebooks unchanged"
    _run(['nbdev-clean'], copy)
    changed = [k for k, v in _files(copy, 'nbs/*.ipynb').items() if (ROOT/k).read_bytes() != v]
    assert not changed, f'run nbdev-clean and commit: {changed}'

def test_docs_process(copy):
    "nbdev-proc-nbs processes every notebook for the docs site"
    _run(['nbdev-proc-nbs'], copy)
    assert (copy/'_proc').is_dir()
