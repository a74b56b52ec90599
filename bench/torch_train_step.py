#!/usr/bin/env python3
"""
Optional PyTorch reference for `bench/training.ts` (the project itself never needs Python): one
fine-tuning step of the sample CNN -- forward, categorical cross-entropy, backward, Adam update
of every layer -- on a batch of 64, with the same weights as the TF.js model (loaded by
torch_reference.py's `load_tfjs` / `Net`, so layouts are converted exactly as there).

The loss is written as the engine writes it (softmax output, probabilities clipped to
[1e-7, 1 - 1e-7], mean of -sum(y log p)), so both sides do the same arithmetic.

Usage: python3 bench/torch_train_step.py --model samples/fashion-mnist-cnn/model.json --train-step
           [--threads 2] [--batch 64] [--steps 5] [--serve]
Without --serve it prints one JSON document with the median of 15 repetitions of `--steps` steps.
With --serve it prints the set-up as one JSON line and then, for each `step` line read from stdin,
times one repetition and prints {"msPerStep": ...} (`quit` ends), so training.ts can alternate
PyTorch and TF.js repetitions under the same machine load.
"""
import argparse
import json
import os
import statistics
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_reference import Net, load_tfjs, loaded_blas  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--model', required=True)
    ap.add_argument('--train-step', action='store_true', required=True, help='time one fine-tuning step (the only mode)')
    ap.add_argument('--threads', type=int, default=2)
    ap.add_argument('--batch', type=int, default=64)
    ap.add_argument('--steps', type=int, default=5, help='steps per timed repetition')
    ap.add_argument('--reps', type=int, default=15)
    ap.add_argument('--serve', action='store_true')
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:
        pass
    layers, weights = load_tfjs(args.model)
    net = Net(layers, weights)
    params = []
    for kind, _, p in net.ops:
        if kind in ('conv', 'dense'):
            for key in ('w', 'b'):
                if p[key] is not None:
                    p[key].requires_grad_(True)
                    params.append(p[key])
    first = layers[0]['config']
    bis = first.get('batch_input_shape') or first.get('batch_shape')
    h, w, c = bis[1], bis[2], bis[3]
    classes = net.ops[-1][2]['w'].shape[0]
    gen = torch.Generator().manual_seed(1)
    x = torch.rand(args.batch, c, h, w, generator=gen)
    y = torch.nn.functional.one_hot(torch.arange(args.batch) % classes, classes).float()
    opt = torch.optim.Adam(params, lr=1e-4)

    def step():
        opt.zero_grad(set_to_none=True)
        p = net(x).clamp(1e-7, 1 - 1e-7)
        loss = -(y * p.log()).sum(1).mean()
        loss.backward()
        opt.step()
        return float(loss)

    def rep():
        t0 = time.perf_counter()
        for _ in range(args.steps):
            step()
        return (time.perf_counter() - t0) * 1000 / args.steps

    for _ in range(5):
        step()
    info = {
        'torch': torch.__version__,
        'threads': torch.get_num_threads(),
        'blas': loaded_blas(),
        'batchSize': args.batch,
        'stepsPerRepetition': args.steps,
        'trainableParams': int(sum(p.numel() for p in params)),
    }
    if args.serve:
        print(json.dumps(info), flush=True)
        for line in sys.stdin:
            cmd = line.strip()
            if cmd == 'quit':
                return
            if cmd != 'step':
                print(json.dumps({'error': f'unknown command {cmd!r}'}), flush=True)
                continue
            print(json.dumps({'msPerStep': round(rep(), 3)}), flush=True)
        return
    samples = [rep() for _ in range(args.reps)]
    info['msPerStep'] = {'median': round(statistics.median(samples), 3), 'min': round(min(samples), 3), 'samples': [round(s, 3) for s in samples]}
    json.dump(info, sys.stdout)
    sys.stdout.write('\n')


if __name__ == '__main__':
    main()
