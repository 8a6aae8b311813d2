#!/usr/bin/python3
"""experiments/bench/torch_readout.py: PyTorch reference for the snn readout.

The same network as experiments/bench/readout_bench.c (rules/readout.h):
z-scored random features, constant-current encoding (x * gain each step),
T = 25 steps, current-based LIF layers (beta = exp(-dt/tau_mem), reset by
subtraction with the reset detached), spike-count logits, softmax
cross-entropy, fast-sigmoid surrogate 1/(1 + k|x|)^2, Adam (lr 1e-3),
batch 128, float64.  Shapes 400-10 and 784-400-10.  One warm-up epoch,
then --epochs timed epochs; samples/s for each thread count
(torch.set_num_threads).

With --snn-bench PATH (the built readout_bench executable) each
(shape, threads) case runs the snn benchmark right before torch's, in the
same process tree and with the same sample count, and prints the ratio
snn / torch of samples per second.

Run with Debian's interpreter: /usr/bin/python3 torch_readout.py --snn-bench \
    build/tests/readout_bench
"""
import argparse
import json
import math
import subprocess
import time

import torch


class FastSigmoidSpike(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, k):
        ctx.save_for_backward(x)
        ctx.k = k
        return (x >= 0).to(x.dtype)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g / (1.0 + ctx.k * x.abs()) ** 2, None


class Readout(torch.nn.Module):
    def __init__(self, dims, steps=25, dt=1.0, tau_mem=10.0, theta=1.0, slope=10.0, gain=0.2):
        super().__init__()
        self.w = torch.nn.ParameterList()
        self.b = torch.nn.ParameterList()
        for n_in, n_out in zip(dims[:-1], dims[1:]):
            self.w.append(torch.nn.Parameter(torch.randn(n_in, n_out, dtype=torch.float64)
                                             / math.sqrt(n_in)))
            self.b.append(torch.nn.Parameter(torch.zeros(n_out, dtype=torch.float64)))
        self.steps, self.beta, self.theta, self.slope = steps, math.exp(-dt / tau_mem), theta, slope
        self.gain = gain

    def lif(self, cur, const):
        """cur: [B, n] (the same every step) or [T, B, n]; returns spikes [T, B, n]."""
        n = cur.shape[-1]
        bsz = cur.shape[0] if const else cur.shape[1]
        v = torch.zeros(bsz, n, dtype=cur.dtype)
        out = []
        for t in range(self.steps):
            u = self.beta * v + (cur if const else cur[t])
            s = FastSigmoidSpike.apply(u - self.theta, self.slope)
            v = u - self.theta * s.detach()
            out.append(s)
        return torch.stack(out)

    def forward(self, x):
        cur = x * self.gain @ self.w[0] + self.b[0]
        s = self.lif(cur, True)
        for w, b in zip(self.w[1:], self.b[1:]):
            steps, bsz, n = s.shape
            cur = (s.reshape(steps * bsz, n) @ w + b).reshape(steps, bsz, -1)
            s = self.lif(cur, False)
        return s.sum(0)


def bench_torch(shape, threads, n, epochs, batch=128, seed=1):
    torch.set_num_threads(threads)
    torch.manual_seed(seed)
    dims = [int(d) for d in shape.split("-")]
    x = torch.rand(n, dims[0], dtype=torch.float64)
    x = (x - x.mean(0)) / x.std(0, unbiased=False)
    y = torch.randint(0, dims[-1], (n,))
    net = Readout(dims)
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    lossf = torch.nn.CrossEntropyLoss()
    elapsed, loss = 0.0, float("nan")
    for e in range(epochs + 1):
        t0 = time.perf_counter()
        perm = torch.randperm(n)
        total = 0.0
        for i in range(0, n, batch):
            idx = perm[i:i + batch]
            opt.zero_grad(set_to_none=True)
            lo = lossf(net(x[idx]), y[idx])
            lo.backward()
            opt.step()
            total += lo.item() * len(idx)
        if e > 0:
            elapsed += time.perf_counter() - t0
        loss = total / n
    return {"impl": "torch", "shape": shape, "threads": threads, "samples": n,
            "epochs": epochs, "samples_per_s": round(n * epochs / elapsed, 1),
            "loss": round(loss, 6), "torch": torch.__version__}


def bench_snn(path, shape, threads, n, epochs):
    out = subprocess.run([path, "--shape", shape, "--threads", str(threads), "--samples", str(n),
                          "--epochs", str(epochs)], check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shapes", default="400-10,784-400-10")
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--samples", type=int, default=1024)
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--snn-bench", default=None, help="path of the readout_bench executable")
    a = ap.parse_args()
    for shape in a.shapes.split(","):
        for th in (int(t) for t in a.threads.split(",")):
            snn = bench_snn(a.snn_bench, shape, th, a.samples, a.epochs) if a.snn_bench else None
            tr = bench_torch(shape, th, a.samples, a.epochs)
            if snn:
                print(json.dumps(snn))
            print(json.dumps(tr))
            if snn:
                print(json.dumps({"shape": shape, "threads": th,
                                  "ratio_snn_over_torch":
                                      round(snn["samples_per_s"] / tr["samples_per_s"], 3)}))


if __name__ == "__main__":
    main()
