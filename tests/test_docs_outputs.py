"""The chapters that have something to show are committed with their outputs (`make docs-outputs`), small."""
import base64, importlib.util, json
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location('docs_outputs', ROOT/'scripts/docs_outputs.py')
docs_outputs = importlib.util.module_from_spec(spec); spec.loader.exec_module(docs_outputs)
FIGURES = {'01_data': 1, '08_diagnostics': 3, '08a_explain': 1, 'insilico': 2, 'train': 1}  # chapters whose committed outputs must hold at least this many PNGs
MAX_PNG, MAX_TOTAL = 150_000, 3_000_000  # bytes

def outputs(stem):
    nb = json.loads((ROOT/'nbs'/f'{stem}.ipynb').read_text())
    return [o for c in nb['cells'] if c['cell_type'] == 'code' for o in c.get('outputs', [])]

def pngs(stem): return [base64.b64decode(o['data']['image/png']) for o in outputs(stem) if 'image/png' in o.get('data', {})]

@pytest.mark.parametrize('stem', docs_outputs.CHAPTERS)
def test_chapter_has_outputs(stem):
    assert outputs(stem), f'nbs/{stem}.ipynb has no outputs: run `make docs-outputs` and commit'
    assert len(pngs(stem)) >= FIGURES.get(stem, 0), f'nbs/{stem}.ipynb: expected at least {FIGURES[stem]} figures'

def test_figures_are_small():
    sizes = {(p.stem, i): len(b) for p in (ROOT/'nbs').glob('*.ipynb') for i, b in enumerate(pngs(p.stem))}
    big = {k: v for k, v in sizes.items() if v > MAX_PNG}
    assert not big, f'PNG outputs over {MAX_PNG} bytes: {big}'
    assert sum(sizes.values()) <= MAX_TOTAL, f'PNG outputs take {sum(sizes.values())} bytes, over {MAX_TOTAL}'

def test_flagged_cells_are_skipped():
    "`#| slow` and `#| cuda` cells are not run for the docs"
    cell = lambda src: type('Cell', (), {'cell_type': 'code', 'source': src})()
    assert docs_outputs.flagged(cell('#| slow\nx = 1')) and docs_outputs.flagged(cell('#|cuda\nx = 1'))
    assert not docs_outputs.flagged(cell('# slow code\nx = 1'))
