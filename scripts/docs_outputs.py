"""Execute the chapters that have something to show and save their outputs, for the docs site and GitHub.

`make docs-outputs` runs this. Cells flagged `#| slow`, `#| cuda` or `#| notest` are not run (as in the tests);
figures are the chapters' own PNGs (the tests keep each under 150 kB). After it, `nbdev-clean` strips metadata but keeps the outputs.
"""
import argparse, os, re, sys, time
from pathlib import Path
from execnb.shell import read_nb, write_nb
from execnb.shell import CaptureShell

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = ['01_data', '02_simulate', '03_metrics', '04_model', '06_train', '07_submit', '08_diagnostics', '08a_explain', '11_extract',
            '12_predict', 'insilico', 'train']
SKIP = ('slow', 'cuda', 'notest')
SETUP = "import numpy as np, torch, random; np.random.seed(0); torch.manual_seed(0); random.seed(0)"  # a fixed seed

def flagged(cell) -> bool:
    "Is `cell` a code cell flagged with one of `SKIP`?"
    return cell.cell_type == 'code' and any(re.search(rf'^\s*#\|\s*{f}\b', cell.source, re.M) for f in SKIP)

def execute(path:Path) -> float:
    "Run the notebook at `path` in its folder and write it back with outputs; returns seconds"
    nb, t = read_nb(path), time.time()
    for c in nb.cells:
        if c.cell_type == 'code': c.outputs, c.execution_count = [], None
    shell = CaptureShell(path)
    cwd = os.getcwd(); os.chdir(path.parent)
    try:
        shell.run(SETUP)
        shell.run_all(nb, exc_stop=True, preproc=flagged)
    finally: os.chdir(cwd)
    write_nb(nb, path)
    return time.time() - t

def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('chapters', nargs='*', default=CHAPTERS, help='notebook stems under nbs/')
    a = p.parse_args(argv)
    os.environ.setdefault('WANDB_MODE', 'disabled'); os.environ.setdefault('MPLBACKEND', 'module://matplotlib_inline.backend_inline')
    for stem in a.chapters:
        secs = execute(ROOT/'nbs'/f'{stem}.ipynb')
        print(f'{stem}: {secs:.1f} s', flush=True)

if __name__ == '__main__': main()
