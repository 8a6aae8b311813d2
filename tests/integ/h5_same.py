"""
tests/integ/h5_same.py: compare the datasets (and attributes) of two snn
result files.

Usage: /usr/bin/python3 h5_same.py A.h5 B.h5 [--skip PATH ...] [--attrs]
                                   [--skip-attr NAME|PATH@NAME ...]
Every dataset of A must exist in B with identical shape, dtype and values
(bit for bit) and vice versa, except the paths given with --skip (e.g.
config, which names the output file).  With --attrs, so must every
attribute of every group and dataset, except those given with --skip-attr:
NAME skips that attribute wherever it is (e.g. samples_per_s), PATH@NAME
only at PATH ("/" for the root).  Prints each difference; exits 1 if there
is any, else prints "same: N datasets[, M attributes]".
"""
import sys

import h5py
import numpy as np


def contents(f):
    data, attrs = {}, {}

    def take_attrs(path, obj):
        for k, v in obj.attrs.items():
            attrs[(path, k)] = v

    def visit(name, obj):
        if isinstance(obj, h5py.Dataset):
            data[name] = obj[()]
        take_attrs(name, obj)

    take_attrs("/", f)
    f.visititems(visit)
    return data, attrs


def same_value(x, y):
    if isinstance(x, np.ndarray) or isinstance(y, np.ndarray):
        return isinstance(x, np.ndarray) and isinstance(y, np.ndarray) and \
            x.dtype == y.dtype and x.shape == y.shape and \
            np.array_equal(x.view(np.uint8), y.view(np.uint8))
    if isinstance(x, (float, np.floating)) and isinstance(y, (float, np.floating)):
        return np.array([x]).view(np.uint8).tobytes() == np.array([y]).view(np.uint8).tobytes()
    return type(x) is type(y) and x == y


def parse(args):
    files, skip, skip_attr, attrs, cur = [], set(), set(), False, None
    for a in args:
        if a == "--skip":
            cur = skip
        elif a == "--skip-attr":
            cur = skip_attr
            attrs = True
        elif a == "--attrs":
            attrs, cur = True, None
        elif cur is not None:
            cur.add(a)
        else:
            files.append(a)
    if len(files) != 2:
        sys.exit("usage: h5_same.py A.h5 B.h5 [--skip PATH ...] [--attrs] "
                 "[--skip-attr NAME|PATH@NAME ...]")
    return files, skip, skip_attr, attrs


def main():
    files, skip, skip_attr, with_attrs = parse(sys.argv[1:])
    (a, aa), (b, ba) = (contents(h5py.File(p, "r")) for p in files)
    bad = 0
    for k in sorted(set(a) | set(b)):
        if k in skip:
            continue
        if k not in a or k not in b:
            print("only in %s: %s" % (files[0] if k in a else files[1], k))
            bad += 1
        elif not same_value(a[k], b[k]):
            print("differs: %s" % k)
            bad += 1
    n_attrs = 0
    for key in sorted(set(aa) | set(ba)) if with_attrs else []:
        path, name = key
        if name in skip_attr or "%s@%s" % (path, name) in skip_attr or path in skip:
            continue
        n_attrs += 1
        if key not in aa or key not in ba:
            print("attribute only in %s: %s@%s" % (files[0] if key in aa else files[1], path,
                                                   name))
            bad += 1
        elif not same_value(aa[key], ba[key]):
            print("attribute differs: %s@%s (%r vs %r)" % (path, name, aa[key], ba[key]))
            bad += 1
    if bad:
        sys.exit(1)
    print("same: %d datasets%s" % (len(a), ", %d attributes" % n_attrs if with_attrs else ""))


main()
