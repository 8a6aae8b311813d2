"""
tests/integ/h5_check.py: read the file written by `test_h5 --write PATH`
with h5py and check every dataset and attribute: dtype, shape, units,
values, and that strings come back as str.

Usage: /usr/bin/python3 h5_check.py PATH
Prints one line per failed check and a final "h5py: N passed, M failed";
exits 1 if anything failed.  The expected values repeat write_known() in
tests/unit/test_h5.c.
"""
import sys

import h5py
import numpy as np

passed = 0
failed = 0


def check(what, ok, detail=""):
    global passed, failed
    if ok:
        passed += 1
    else:
        failed += 1
        print("FAIL: %s%s" % (what, (": " + detail) if detail else ""))


def check_str_attr(obj, name, expect):
    where = "%s@%s" % (obj.name, name)
    if name not in obj.attrs:
        check(where, False, "missing")
        return
    v = obj.attrs[name]
    check(where + " is str", isinstance(v, str), "got %r (%s)" % (v, type(v).__name__))
    check(where + " value", v == expect, "got %r, expected %r" % (v, expect))


def check_num_attr(obj, name, dtype, expect):
    where = "%s@%s" % (obj.name, name)
    if name not in obj.attrs:
        check(where, False, "missing")
        return
    v = obj.attrs[name]
    got = np.asarray(v).dtype
    check(where + " dtype", got == np.dtype(dtype), "got %s, expected %s" % (got, dtype))
    check(where + " value", np.array_equal(np.asarray(v), np.asarray(expect)),
          "got %r, expected %r" % (v, expect))


def check_dset(f, path, dtype, expect, units=None, growing=False):
    if path not in f:
        check(path, False, "missing")
        return
    d = f[path]
    expect = np.asarray(expect, dtype=dtype)
    check(path + " dtype", d.dtype == np.dtype(dtype), "got %s, expected %s" % (d.dtype, dtype))
    check(path + " shape", d.shape == expect.shape,
          "got %s, expected %s" % (d.shape, expect.shape))
    if d.shape == expect.shape:
        v = d[()]
        check(path + " values", np.array_equal(v, expect), "got %r, expected %r" % (v, expect))
    if units is not None:
        check_str_attr(d, "units", units)
    if growing:
        check(path + " unlimited", d.maxshape[0] is None, "maxshape %s" % (d.maxshape,))
        check(path + " chunked", d.chunks is not None)
        check(path + " deflate", d.compression == "gzip" and d.compression_opts == 4,
              "compression %s %s" % (d.compression, d.compression_opts))


def main(path):
    try:
        f = h5py.File(path, "r")
    except Exception as e:  # noqa: BLE001 - report any failure to open
        check("open " + path, False, str(e))
        return

    with f:
        root = f["/"]
        check_str_attr(root, "snn_version", "0.1.0-test")
        check_str_attr(root, "source", "tests/unit/test_h5.c --write")
        check_num_attr(root, "seed", "uint64", 42)
        check_num_attr(root, "threads", "uint64", 2)
        check_str_attr(root, "start_time", "2024-01-02T03:04:05Z")
        check_str_attr(root, "end_time", "2024-01-02T03:04:06Z")
        check_num_attr(root, "wall_s", "float64", 1.25)
        check_num_attr(root, "dt_ms", "float64", 0.1)
        check_num_attr(root, "duration_ms", "float64", 100.0)

        # /config: scalar UTF-8 string dataset.  h5py 3 returns bytes from
        # ds[()] for any string dataset; .asstr() decodes with the stored
        # encoding, which must be utf-8.
        cfg = f.get("config")
        check("/config exists", cfg is not None)
        if cfg is not None:
            info = h5py.check_string_dtype(cfg.dtype)
            check("/config is a string dataset", info is not None, "dtype %s" % cfg.dtype)
            check("/config is utf-8", info is not None and info.encoding == "utf-8",
                  "encoding %s" % (info.encoding if info else None))
            check("/config is scalar", cfg.shape == (), "shape %s" % (cfg.shape,))
            text = cfg.asstr()[()]
            check("/config decodes as str", isinstance(text, str), type(text).__name__)
            check("/config value",
                  text == "# r\u00e9sum\u00e9: tau in \u00b5s? no, ms\n"
                          "simulation: { dt_ms = 0.1; duration_ms = 100.0; };\n",
                  repr(text))

        pop = f["populations/exc"]
        check_str_attr(pop, "model", "lif")
        check_num_attr(pop, "size", "uint64", 5)
        check_num_attr(pop, "tau_m", "float64", 20.0)

        # SONATA spike report.
        sp = f["spikes"]
        check_num_attr(sp, "magic", "uint32", 0x0A7A)
        check_num_attr(sp, "version", "uint32", [0, 1])
        check_str_attr(sp, "units", "ms")
        check_str_attr(f["spikes/exc"], "sorting", "by_time")
        check_dset(f, "spikes/exc/timestamps", "float64", [1.0, 2.5, 2.5, 10.0, 50.25, 99.9],
                   units="ms", growing=True)
        check_dset(f, "spikes/exc/node_ids", "uint64", [0, 3, 1, 0, 4, 3], growing=True)

        # State [T, N] with units.
        r = np.arange(3)[:, None]
        c = np.arange(2)[None, :]
        check_dset(f, "state/exc/times", "float64", [0.0, 0.1, 0.2], units="ms", growing=True)
        check_dset(f, "state/exc/node_ids", "uint64", [0, 2])
        check_dset(f, "state/exc/V_m", "float64", -70.0 + r + 0.5 * c, units="mV", growing=True)
        check_dset(f, "state/exc/I_syn_ex", "float64", 10.0 * r - c, units="pA", growing=True)

        # Dense weights [S, n_pre, n_post], w = 10 s + 3 i + j.
        s = np.arange(2)[:, None, None]
        i = np.arange(2)[None, :, None]
        j = np.arange(3)[None, None, :]
        check_dset(f, "weights/in_exc/times", "float64", [0.0, 100.0], units="ms", growing=True)
        check_dset(f, "weights/in_exc/values", "float64", 10.0 * s + 3 * i + j, units="pA",
                   growing=True)
        check_str_attr(f["weights/in_exc"], "layout", "dense")

        # Sparse weights [S, nnz] with pre/post.
        s = np.arange(3)[:, None]
        k = np.arange(3)[None, :]
        check_dset(f, "weights/rec/times", "float64", [0.0, 50.0, 100.0], units="ms",
                   growing=True)
        check_dset(f, "weights/rec/values", "float64", 0.5 * (s + 1) * (k + 1), units="nS",
                   growing=True)
        check_dset(f, "weights/rec/pre", "uint64", [0, 0, 1])
        check_dset(f, "weights/rec/post", "uint64", [1, 2, 0])
        check_str_attr(f["weights/rec"], "layout", "sparse")
        check_num_attr(f["weights/rec"], "n_pre", "uint64", 2)
        check_num_attr(f["weights/rec"], "n_post", "uint64", 3)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: h5_check.py FILE.h5")
    main(sys.argv[1])
    print("h5py: %d passed, %d failed" % (passed, failed))
    sys.exit(1 if failed or not passed else 0)
