#!/usr/bin/env python3
"""
Optional PyTorch reference for `bench/run.ts` (the project itself never needs Python).

Loads a TF.js Layers Sequential CNN (model.json + weight shards, read with numpy) into PyTorch
with the exact same weights, then measures with `torch.set_num_threads(THREADS)`:

  forward   one forward pass of a batch of 64 images (median of many);
  scan      the equivalent of CNN Lens's dead-filter scan over an image folder: every image in
            batches of 64, the output of every conv/dense layer (after its activation) reduced per
            unit to [images where the spatial max > 0, sum of spatial means, max] -- the same
            reductions as src/engine/analyses/scan.ts.
            * endToEnd: reading + decoding the PNGs inside the timed loop (as the engine does);
            * computeOnly: images already decoded in memory.

With --check FILE (written by run.ts: inputs and TF.js outputs at every activation point for a
few images) it also verifies that this network computes what TF.js computes.

Layout conversions: TF.js conv kernels are HWIO [kh, kw, cin, cout], PyTorch wants OIHW
[cout, cin, kh, kw]; the Dense after Flatten expects TF's NHWC flatten order, so its kernel rows
are permuted to PyTorch's NCHW flatten order (no transpose of activations at run time).

Usage: python3 bench/torch_reference.py --model samples/fashion-mnist-cnn/model.json \
           --data samples/data/fashion-mnist-1000 [--threads 2] [--batch 64] [--reps 5] [--check F]
Prints one JSON document on stdout. With --serve it prints the set-up results (check, forward) as
one line and then times one repetition per command read from stdin (see `serve`), so run.ts can
alternate PyTorch and TF.js repetitions.

On the project's Debian VM, run it with OpenBLAS and a malloc that keeps its heap (run.ts does:
LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-pthread MALLOC_MMAP_THRESHOLD_=33554432
MALLOC_TRIM_THRESHOLD_=1073741824 MALLOC_TOP_PAD_=268435456); see bench/README.md.
"""
import argparse
import json
import os
import statistics
import sys
import time
import zlib

import numpy as np
import torch
import torch.nn.functional as F

IMAGE_EXTENSIONS = {'.png', '.jpg', '.jpeg', '.jpe', '.jfif'}


# ----------------------------------------------------------------------------------------------
# TF.js Layers model -> PyTorch


def load_tfjs(model_json):
    with open(model_json, 'r', encoding='utf-8') as f:
        mj = json.load(f)
    topo = mj['modelTopology']
    mc = topo.get('model_config', topo)
    if mc.get('class_name') != 'Sequential':
        raise SystemExit(f'{model_json}: only Sequential models are supported by this reference (got {mc.get("class_name")})')
    cfg = mc['config']
    layers = cfg['layers'] if isinstance(cfg, dict) else cfg
    base = os.path.dirname(os.path.abspath(model_json))
    weights = {}
    for group in mj['weightsManifest']:
        buf = b''.join(open(os.path.join(base, p), 'rb').read() for p in group['paths'])
        offset = 0
        for w in group['weights']:
            if w.get('dtype', 'float32') != 'float32' or w.get('quantization'):
                raise SystemExit(f'{model_json}: weight {w["name"]} is not plain float32')
            n = int(np.prod(w['shape'])) if w['shape'] else 1
            weights[w['name']] = np.frombuffer(buf, dtype='<f4', count=n, offset=offset).reshape(w['shape']).copy()
            offset += 4 * n
    return layers, weights


def weight(weights, layer, name):
    for key in (f'{layer}/{name}',):
        if key in weights:
            return weights[key]
    matches = [k for k in weights if k.endswith(f'/{layer}/{name}') or k.endswith(f'{layer}/{name}')]
    if len(matches) != 1:
        raise SystemExit(f'weight {layer}/{name} not found (have {sorted(weights)})')
    return weights[matches[0]]


def pair(v):
    return tuple(v) if isinstance(v, (list, tuple)) else (v, v)


def same_padding(size, k, s):
    """TF 'same' padding (before, after) for one spatial dimension."""
    out = -(-size // s)
    total = max((out - 1) * s + k - size, 0)
    return total // 2, total - total // 2


ACTIVATIONS = {
    'linear': lambda x: x,
    'relu': F.relu,
    'relu6': lambda x: F.hardtanh(x, 0.0, 6.0),
    'sigmoid': torch.sigmoid,
    'tanh': torch.tanh,
    'softmax': lambda x: F.softmax(x, dim=1),
}


class Net(torch.nn.Module):
    """A Sequential CNN run op by op; `forward(x, points)` also collects activation points."""

    def __init__(self, layers, weights):
        super().__init__()
        self.ops = []  # (kind, name, params)
        self.points = []  # names of the conv/dense layers whose (activated) outputs are collected
        shape = None  # NCHW shape without batch, tracked to fix the flatten order
        for layer in layers:
            cls, c = layer['class_name'], layer['config']
            name = c.get('name')
            if cls == 'InputLayer':
                bis = c.get('batch_input_shape') or c.get('batch_shape')
                shape = (bis[3], bis[1], bis[2])
                continue
            if shape is None and c.get('batch_input_shape'):
                bis = c['batch_input_shape']
                shape = (bis[3], bis[1], bis[2])
            if cls == 'Conv2D':
                if c.get('data_format', 'channels_last') not in ('channels_last', None):
                    raise SystemExit(f'{name}: only channels_last is supported')
                k = weight(weights, name, 'kernel')  # [kh, kw, cin, cout]
                # torch.tensor (not from_numpy): numpy may give the size-1 input-channel axis of conv1 a
                # stride that makes torch treat the kernel as channels_last, a ~40x slower path.
                w = torch.tensor(np.ascontiguousarray(k.transpose(3, 2, 0, 1)))
                b = torch.tensor(weight(weights, name, "bias")) if c.get('use_bias', True) else None
                kh, kw = k.shape[0], k.shape[1]
                sh, sw = pair(c.get('strides', 1))
                dil = pair(c.get('dilation_rate', 1))
                if dil != (1, 1):
                    raise SystemExit(f'{name}: dilation is not supported')
                pad = None
                if c.get('padding', 'valid') == 'same':
                    pad = same_padding(shape[2], kw, sw) + same_padding(shape[1], kh, sh)  # F.pad order: W then H
                act = c.get('activation', 'linear')
                self.ops.append(('conv', name, dict(w=w, b=b, stride=(sh, sw), pad=pad, act=ACTIVATIONS[act])))
                self.points.append(name)
                ph = (pad[2] + pad[3]) if pad else 0
                pw = (pad[0] + pad[1]) if pad else 0
                shape = (k.shape[3], (shape[1] + ph - kh) // sh + 1, (shape[2] + pw - kw) // sw + 1)
            elif cls in ('MaxPooling2D', 'AveragePooling2D'):
                ph_, pw_ = pair(c.get('pool_size', 2))
                strides = pair(c.get('strides') or c.get('pool_size', 2))
                if c.get('padding', 'valid') != 'valid':
                    raise SystemExit(f'{name}: only valid pooling is supported')
                self.ops.append(('maxpool' if cls == 'MaxPooling2D' else 'avgpool', name, dict(k=(ph_, pw_), s=strides)))
                shape = (shape[0], (shape[1] - ph_) // strides[0] + 1, (shape[2] - pw_) // strides[1] + 1)
            elif cls == 'Flatten':
                self.ops.append(('flatten', name, dict(chw=shape)))
                shape = (shape[0] * shape[1] * shape[2],)
            elif cls == 'Dense':
                k = weight(weights, name, 'kernel')  # [in, out]
                prev = self.ops[-1] if self.ops else None
                if prev and prev[0] == 'flatten':
                    cc, hh, ww = prev[2]['chw']
                    # rows are in NHWC flatten order (h, w, c); PyTorch flattens NCHW (c, h, w)
                    k = k.reshape(hh, ww, cc, -1).transpose(2, 0, 1, 3).reshape(cc * hh * ww, -1)
                w = torch.tensor(np.ascontiguousarray(k.T))
                b = torch.tensor(weight(weights, name, "bias")) if c.get('use_bias', True) else None
                act = c.get('activation', 'linear')
                self.ops.append(('dense', name, dict(w=w, b=b, act=ACTIVATIONS[act])))
                self.points.append(name)
                shape = (k.shape[1],)
            elif cls in ('Dropout', 'SpatialDropout2D'):
                continue  # identity at inference
            else:
                raise SystemExit(f'layer {name}: {cls} is not supported by this reference')

    def forward(self, x, collect=None):
        for kind, _, p in self.ops:
            if kind == 'conv':
                if p['pad'] is not None:
                    x = F.pad(x, p['pad'])
                x = p['act'](F.conv2d(x, p['w'], p['b'], p['stride']))
                if collect is not None:
                    collect.append(x)
            elif kind == 'maxpool':
                x = F.max_pool2d(x, p['k'], p['s'])
            elif kind == 'avgpool':
                x = F.avg_pool2d(x, p['k'], p['s'])
            elif kind == 'flatten':
                x = torch.flatten(x, 1)
            elif kind == 'dense':
                x = p['act'](F.linear(x, p['w'], p['b']))
                if collect is not None:
                    collect.append(x)
        return x


# ----------------------------------------------------------------------------------------------
# Data: the same listing order as src/engine/io/datasets/imageFolder.ts (sorted by code point,
# hidden entries skipped, class sub-folders recursively)


def list_images(root):
    def entries(d):
        return sorted(e for e in os.listdir(d) if not e.startswith('.'))

    def collect(d, out):
        for e in entries(d):
            full = os.path.join(d, e)
            if os.path.isdir(full):
                if not os.path.islink(full):
                    collect(full, out)
            elif os.path.splitext(e)[1].lower() in IMAGE_EXTENSIONS:
                out.append(full)

    top, folders = [], []
    for e in entries(root):
        full = os.path.join(root, e)
        if os.path.isdir(full):
            imgs = []
            collect(full, imgs)
            folders.append(imgs)
        elif os.path.splitext(e)[1].lower() in IMAGE_EXTENSIONS:
            top.append(full)
    if any(folders):
        return [f for imgs in folders for f in imgs]
    return top


def _decode_png_numpy(data):
    """Minimal 8-bit, non-interlaced PNG decoder (fallback when Pillow is missing)."""
    if data[:8] != b'\x89PNG\r\n\x1a\n':
        raise ValueError('not a PNG')
    pos, idat, ihdr = 8, [], None
    while pos < len(data):
        length = int.from_bytes(data[pos:pos + 4], 'big')
        ctype = data[pos + 4:pos + 8]
        body = data[pos + 8:pos + 8 + length]
        if ctype == b'IHDR':
            ihdr = body
        elif ctype == b'IDAT':
            idat.append(body)
        elif ctype == b'IEND':
            break
        pos += 12 + length
    w, h = int.from_bytes(ihdr[0:4], 'big'), int.from_bytes(ihdr[4:8], 'big')
    depth, ctype, interlace = ihdr[8], ihdr[9], ihdr[12]
    channels = {0: 1, 2: 3, 4: 2, 6: 4}.get(ctype)
    if depth != 8 or channels is None or interlace:
        raise ValueError('unsupported PNG (fallback decoder handles 8-bit grey/RGB/RGBA, non-interlaced)')
    raw = np.frombuffer(zlib.decompress(b''.join(idat)), dtype=np.uint8).reshape(h, 1 + w * channels)
    out = np.zeros((h, w * channels), dtype=np.uint8)
    prev = np.zeros(w * channels, dtype=np.int32)
    bpp = channels
    for y in range(h):
        f, line = raw[y, 0], raw[y, 1:].astype(np.int32)
        if f == 0:
            cur = line
        elif f == 1:
            cur = np.cumsum(line.reshape(-1, bpp), axis=0).reshape(-1) & 255
        elif f == 2:
            cur = (line + prev) & 255
        else:
            cur = np.zeros_like(line)
            for i in range(len(line)):
                a = cur[i - bpp] if i >= bpp else 0
                b = prev[i]
                c = prev[i - bpp] if i >= bpp else 0
                if f == 3:
                    cur[i] = (line[i] + ((a + b) >> 1)) & 255
                else:
                    p = a + b - c
                    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                    pred = a if (pa <= pb and pa <= pc) else (b if pb <= pc else c)
                    cur[i] = (line[i] + pred) & 255
        out[y] = cur
        prev = cur
    img = out.reshape(h, w, channels)
    if channels in (2, 4):
        img = img[..., :-1]
    return img


try:
    from PIL import Image  # noqa: E402

    DECODER = 'pillow'

    def decode(path, channels):
        with Image.open(path) as im:
            return np.asarray(im.convert('L' if channels == 1 else 'RGB'))
except ImportError:  # pragma: no cover - depends on the machine
    DECODER = 'numpy-fallback'

    def decode(path, channels):
        with open(path, 'rb') as f:
            img = _decode_png_numpy(f.read())
        if img.shape[2] != channels:
            img = img.mean(axis=2, keepdims=True) if channels == 1 else np.repeat(img, 3, axis=2)
        return img.reshape(img.shape[0], img.shape[1]) if channels == 1 else img


def to_tensor(batch, channels):
    """uint8 [N,H,W] or [N,H,W,C] -> float32 NCHW in [0, 1] (the default preprocessing)."""
    a = np.stack(batch).astype(np.float32) / 255.0
    if channels == 1:
        return torch.from_numpy(a).unsqueeze(1)
    return torch.from_numpy(a).permute(0, 3, 1, 2).contiguous()


# ----------------------------------------------------------------------------------------------
# Scan reductions (same as src/engine/analyses/scan.ts)


class ScanAcc:
    def __init__(self, names):
        self.names = names
        self.fires = [None] * len(names)
        self.sum = [None] * len(names)
        self.max = [None] * len(names)
        self.images = 0

    def add(self, outs):
        for i, t in enumerate(outs):
            if t.dim() == 4:
                per_max = t.amax(dim=(2, 3))
                per_mean = t.mean(dim=(2, 3))
            else:
                per_max = per_mean = t
            fires = (per_max > 0).sum(0, dtype=torch.float64)
            s = per_mean.sum(0, dtype=torch.float64)
            m = per_max.amax(0)
            if self.fires[i] is None:
                self.fires[i], self.sum[i], self.max[i] = fires, s, m
            else:
                self.fires[i] += fires
                self.sum[i] += s
                self.max[i] = torch.maximum(self.max[i], m)
        self.images += outs[0].shape[0]

    def result(self):
        return [
            {'name': n, 'firingCount': [int(v) for v in self.fires[i].tolist()], 'max': [float(v) for v in self.max[i].tolist()]}
            for i, n in enumerate(self.names)
        ]


def loaded_blas():
    """Which BLAS this process loaded (torch on Debian uses the system libblas.so.3)."""
    try:
        with open('/proc/self/maps', 'r', encoding='utf-8') as f:
            libs = {line.split()[-1] for line in f if '/' in line}
    except OSError:
        return 'unknown'
    for lib in sorted(libs):
        name = os.path.basename(lib)
        if 'openblas' in lib:
            return f'openblas ({lib})'
        if 'mkl' in name:
            return f'mkl ({lib})'
        if 'blis' in name:
            return f'blis ({lib})'
    for lib in sorted(libs):
        if os.path.basename(lib).startswith('libblas.so'):
            return f'{os.path.realpath(lib)} (reference BLAS unless an alternative points elsewhere)'
    return 'none found'


def serve(info, commands, n):
    """
    Paired mode for run.ts: prints the set-up results as one JSON line, then for each command line
    on stdin (`scan`, `scan-decoded`, `forward`) runs it once and prints {"ms": ...}; `quit`
    prints {"layers": ...} (the last end-to-end scan's per-unit results) and exits. The caller
    alternates these repetitions with its own, so both sides see the same machine load.
    """
    info['images'] = n
    print(json.dumps(info), flush=True)
    last = None
    for line in sys.stdin:
        cmd = line.strip()
        if cmd == 'quit':
            print(json.dumps({'layers': last}), flush=True)
            return
        fn = commands.get(cmd)
        if fn is None:
            print(json.dumps({'error': f'unknown command {cmd!r}'}), flush=True)
            continue
        t0 = time.perf_counter()
        out = fn()
        ms = (time.perf_counter() - t0) * 1000
        if cmd == 'scan':
            last = out
        print(json.dumps({'ms': round(ms, 2)}), flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--model', required=True)
    ap.add_argument('--data', required=True)
    ap.add_argument('--threads', type=int, default=2)
    ap.add_argument('--batch', type=int, default=64)
    ap.add_argument('--reps', type=int, default=5)
    ap.add_argument('--check')
    ap.add_argument('--serve', action='store_true', help='after the set-up, time one repetition per command read from stdin')
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:
        pass
    layers, weights = load_tfjs(args.model)
    net = Net(layers, weights).eval()
    first = layers[0]['config']
    bis = first.get('batch_input_shape') or first.get('batch_shape')
    H, W, C = bis[1], bis[2], bis[3]
    result = {'torch': torch.__version__, 'threads': torch.get_num_threads(), 'blas': loaded_blas(), 'decoder': DECODER, 'points': net.points}

    files = list_images(args.data)
    with torch.inference_mode():
        # --- cross-check against TF.js
        if args.check:
            with open(args.check, 'r', encoding='utf-8') as f:
                chk = json.load(f)
            k = chk['images']
            h, w, c = chk['shape']
            x = torch.tensor(chk['inputs'], dtype=torch.float32).reshape(k, h, w, c).permute(0, 3, 1, 2).contiguous()
            outs = []
            net(x, outs)
            per_layer = []
            for t, ref in zip(outs, chk['layers']):
                mine = (t.permute(0, 2, 3, 1) if t.dim() == 4 else t).reshape(-1).numpy()
                theirs = np.asarray(ref['values'], dtype=np.float32)
                per_layer.append({'name': ref['name'], 'maxAbsDiff': float(np.abs(mine - theirs).max())})
            pred_t = outs[-1].numpy()
            pred_j = np.asarray(chk['layers'][-1]['values'], dtype=np.float32).reshape(pred_t.shape)
            max_pred_diff = float(np.abs(pred_t - pred_j).max())
            result['check'] = {
                'images': k,
                'layers': per_layer,
                'maxAbsDiff': max_pred_diff,
                'argmaxEqual': bool((pred_t.argmax(1) == pred_j.argmax(1)).all()),
                'ok': bool(max_pred_diff <= 1e-4 and (pred_t.argmax(1) == pred_j.argmax(1)).all()),
            }

        # --- decode everything once (for forward and compute-only scan)
        decoded = [decode(f, C) for f in files]
        for img in decoded:
            if img.shape[0] != H or img.shape[1] != W:
                raise SystemExit(f'image size {img.shape[:2]} differs from the model input {H}x{W}; this reference does not resize')
        all_x = to_tensor(decoded, C)

        # --- forward, batch 64
        xb = all_x[: args.batch].contiguous()
        for _ in range(5):
            net(xb)
        times = []
        for _ in range(max(30, args.reps)):
            t0 = time.perf_counter()
            net(xb)
            times.append(time.perf_counter() - t0)
        fwd = statistics.median(times)
        result['forward'] = {
            'batchSize': args.batch,
            'medianMs': round(fwd * 1000, 2),
            'minMs': round(min(times) * 1000, 2),
            'imagesPerSecond': round(args.batch / fwd, 1),
        }

        # --- scan
        def scan_decoded():
            acc = ScanAcc(net.points)
            for s in range(0, len(files), args.batch):
                outs = []
                net(all_x[s:s + args.batch], outs)
                acc.add(outs)
            return acc.result()

        def scan_files():
            acc = ScanAcc(net.points)
            for s in range(0, len(files), args.batch):
                batch = [decode(f, C) for f in files[s:s + args.batch]]
                outs = []
                net(to_tensor(batch, C), outs)
                acc.add(outs)
            return acc.result()

        # Warm-up, then the two variants alternate so that both see the same machine load.
        scan_files()
        scan_decoded()
        if args.serve:
            serve(result, {'scan': scan_files, 'scan-decoded': scan_decoded, 'forward': lambda: net(xb)}, len(files))
            return
        t_e2e, t_comp, layers_out = [], [], None
        for _ in range(args.reps):
            t0 = time.perf_counter()
            layers_out = scan_files()
            t_e2e.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            scan_decoded()
            t_comp.append(time.perf_counter() - t0)
        n = len(files)
        med_e2e, med_comp = statistics.median(t_e2e), statistics.median(t_comp)
        result['scan'] = {
            'images': n,
            'batchSize': args.batch,
            'endToEnd': {
                'medianMs': round(med_e2e * 1000, 1),
                'minMs': round(min(t_e2e) * 1000, 1),
                'samplesMs': [round(t * 1000, 1) for t in t_e2e],
                'imagesPerSecond': round(n / med_e2e, 1),
                'decoder': DECODER,
            },
            'computeOnly': {
                'medianMs': round(med_comp * 1000, 1),
                'minMs': round(min(t_comp) * 1000, 1),
                'samplesMs': [round(t * 1000, 1) for t in t_comp],
                'imagesPerSecond': round(n / med_comp, 1),
            },
            'layers': layers_out,
        }
    json.dump(result, sys.stdout)
    sys.stdout.write('\n')


if __name__ == '__main__':
    main()
