# Reference timing for bench/fid.ts: statistics + FID with the scipy.linalg.sqrtm formula used by
# pytorch-fid / clean-fid. Usage: /usr/bin/python3 fid_scipy.py A.npy B.npy → one JSON line on stdout.
import json
import sys
import time

try:
    import numpy as np
    from scipy import linalg
except ImportError as err:  # the bench turns this into a "skipped" row
    print(json.dumps({'error': f'missing python package: {err}'}))
    sys.exit(0)


def stats(path):
    x = np.load(path).astype(np.float64)
    return x.mean(axis=0), np.cov(x, rowvar=False)


def fid_sqrtm(mu1, s1, mu2, s2, eps=1e-6):
    diff = mu1 - mu2
    covmean, _ = linalg.sqrtm(s1.dot(s2), disp=False)
    if not np.isfinite(covmean).all():
        offset = np.eye(s1.shape[0]) * eps
        covmean = linalg.sqrtm((s1 + offset).dot(s2 + offset))
    if np.iscomplexobj(covmean):
        covmean = covmean.real
    return float(diff.dot(diff) + np.trace(s1) + np.trace(s2) - 2 * np.trace(covmean))


t0 = time.perf_counter()
mu1, s1 = stats(sys.argv[1])
mu2, s2 = stats(sys.argv[2])
t1 = time.perf_counter()
fid = fid_sqrtm(mu1, s1, mu2, s2)
t2 = time.perf_counter()
print(json.dumps({'fid': fid, 'stats_ms': (t1 - t0) * 1e3, 'fid_ms': (t2 - t1) * 1e3,
                  'numpy': np.__version__, 'scipy': __import__('scipy').__version__}))
