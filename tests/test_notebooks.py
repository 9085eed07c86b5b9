"""Run every library notebook with nbdev's own runner, one pytest test per notebook.

Cells flagged with a `tst_flags` flag (`slow`, `cuda`, `notest`) are skipped unless the flag is named
in the environment variable `ALGONAUTS_TEST_FLAGS` (e.g. `ALGONAUTS_TEST_FLAGS="slow"`).
"""
import os
from pathlib import Path
import pytest
from nbdev.config import get_config
from nbdev.test import test_nb as run_notebook

ROOT = Path(__file__).resolve().parents[1]
NBS = sorted(p for p in (ROOT/'nbs').glob('*.ipynb') if not p.name.startswith(('_', '.')) and p.name != 'train.ipynb')

def _flags():
    skip = get_config(ROOT).tst_flags
    skip = skip.split() if isinstance(skip, str) else list(skip)
    return skip, os.environ.get('ALGONAUTS_TEST_FLAGS', '').split()

@pytest.mark.parametrize('nb', NBS, ids=[p.stem for p in NBS])
def test_notebook(nb):
    skip, force = _flags()
    ok, secs = run_notebook(nb, skip_flags=skip, force_flags=force, basepath=ROOT, showerr=True)
    assert ok, f'{nb.name} failed (see the traceback above)'
