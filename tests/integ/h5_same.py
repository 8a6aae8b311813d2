"""
tests/integ/h5_same.py: compare the datasets of two snn result files.

Usage: /usr/bin/python3 h5_same.py A.h5 B.h5 [--skip PATH ...]
Every dataset of A must exist in B with identical shape, dtype and values
(bit for bit) and vice versa, except the paths given with --skip (e.g.
config, which names the output file).  Prints each difference; exits 1 if
there is any, else prints "same: N datasets".
"""
import sys

import h5py
import numpy as np


def datasets(f):
    out = {}

    def visit(name, obj):
        if isinstance(obj, h5py.Dataset):
            out[name] = obj[()]

    f.visititems(visit)
    return out


def main():
    args = sys.argv[1:]
    skip = set()
    if "--skip" in args:
        i = args.index("--skip")
        skip = set(args[i + 1:])
        args = args[:i]
    a, b = (datasets(h5py.File(p, "r")) for p in args)
    bad = 0
    for k in sorted(set(a) | set(b)):
        if k in skip:
            continue
        if k not in a or k not in b:
            print("only in %s: %s" % (args[0] if k in a else args[1], k))
            bad += 1
            continue
        x, y = a[k], b[k]
        if isinstance(x, np.ndarray):
            same = isinstance(y, np.ndarray) and x.dtype == y.dtype and x.shape == y.shape and \
                np.array_equal(x.view(np.uint8), y.view(np.uint8))
        else:
            same = x == y
        if not same:
            print("differs: %s" % k)
            bad += 1
    if bad:
        sys.exit(1)
    print("same: %d datasets" % len(a))


main()
