"""Quick tuning runs: `python bench/tune.py SIM OUT key=value ...` trains with validation and appends a line to OUT/tune.jsonl."""
import json, sys, time
from pathlib import Path
import torch
from algonauts.config import load_config, parse_overrides
from algonauts import train as T

def main(sim, out, *overrides):
    torch.set_num_threads(2)
    sim, out = Path(sim), Path(out)
    vals = {'logging.wandb_mode': 'disabled', 'logging.progress': False, **parse_overrides(list(overrides))}
    cfg = load_config('configs/small.yaml', sim/'features'/'features.yaml', values=vals, data_dir=sim/'fmri',
                      features_dir=sim/'features', outputs_dir=out)
    t = time.time(); res = T.train(cfg); secs = time.time() - t
    hist = [json.loads(l) for l in (Path(res['run_dir'])/'metrics.jsonl').read_text().splitlines()] if cfg.model.kind != 'ridge' else []
    row = dict(overrides=list(overrides), sim=str(sim), val=round(res['best_score'], 4), best_epoch=res['best_epoch'],
               epochs_run=len(hist), secs=round(secs, 1), curve=[round(h['val/score'], 4) for h in hist])
    with open(out/'tune.jsonl', 'a') as f: f.write(json.dumps(row) + '\n')
    print(json.dumps(row), flush=True)

if __name__ == '__main__': main(*sys.argv[1:])
