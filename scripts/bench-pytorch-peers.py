#!/usr/bin/env python3
"""Issue #4's PyTorch peers: batch-1 greedy decode of a Llama-2-7B-shaped model with random weights, the way a
PyTorch user would run it: one decode step compiled (torch.compile, mode="reduce-overhead": CUDA graphs) over a
static KV cache, with fp16 weights or int4 weight-only through PyTorch's tinygemm kernel
(aten._weight_int4pack_mm, group 128, bf16 activations). Writes one JSON object per run to stdout, with the
roofline fraction computed as jetchat-cli bench does: bytes that must be read per token / time per token / the
device-to-device copy bandwidth (bytes read + written) measured in the same run.

Usage: bench-pytorch-peers.py fp16|int4 [--prompt 128] [--tokens 128]
"""
import argparse
import json
import math
import time

import torch
import torch.nn.functional as F

LAYERS, DIM, HEADS, FFN, VOCAB = 32, 4096, 32, 11008, 32000
HEAD_DIM = DIM // HEADS
GROUP = 128


def copy_bandwidth(dev):
    a = torch.empty(1 << 30, dtype=torch.uint8, device=dev).random_()
    b = torch.empty_like(a)
    b.copy_(a)
    torch.cuda.synchronize()
    t0 = time.perf_counter()
    for _ in range(20):
        b.copy_(a)
    torch.cuda.synchronize()
    return 2 * a.numel() * 20 / (time.perf_counter() - t0)


class Linear:
    """y = x @ W^T for W [n, k]: fp16, or int4 packed for tinygemm with bf16 scales and zeros per 128 inputs."""

    def __init__(self, n, k, mode, dev):
        self.n, self.k, self.mode = n, k, mode
        if mode == "fp16":
            self.w = (torch.rand(n, k, device=dev, dtype=torch.float16) * 2 - 1) / math.sqrt(k)
            self.bytes = n * k * 2
        else:
            q = torch.randint(0, 256, (n, k // 2), dtype=torch.uint8, device=dev)  # two 4-bit values a byte
            self.w = torch.ops.aten._convert_weight_to_int4pack(q, 8)
            sz = torch.rand(k // GROUP, n, 2, device=dev, dtype=torch.bfloat16)
            sz[..., 0] = sz[..., 0] / (8 * math.sqrt(k)) + 1e-3  # scale
            sz[..., 1] = (sz[..., 1] - 0.5) / math.sqrt(k)          # zero
            self.sz = sz.contiguous()
            self.bytes = n * k // 2 + self.sz.numel() * 2

    def __call__(self, x):
        if self.mode == "fp16":
            return x @ self.w.t()
        return torch.ops.aten._weight_int4pack_mm(x, self.w, GROUP, self.sz)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["fp16", "int4"])
    ap.add_argument("--prompt", type=int, default=128)
    ap.add_argument("--tokens", type=int, default=128)
    args = ap.parse_args()
    dev = "cuda"
    torch.manual_seed(0)
    act = torch.float16 if args.mode == "fp16" else torch.bfloat16  # tinygemm takes bf16 activations
    max_seq = args.prompt + args.tokens + 8
    rnd = lambda *s: ((torch.rand(*s, device=dev, dtype=torch.float32) * 2 - 1) * 0.5).to(act)
    layers = []
    for _ in range(LAYERS):
        layers.append(dict(
            wqkv=Linear(3 * DIM, DIM, args.mode, dev), wo=Linear(DIM, DIM, args.mode, dev),
            w13=Linear(2 * FFN, DIM, args.mode, dev), w2=Linear(DIM, FFN, args.mode, dev),
            n1=torch.ones(DIM, device=dev, dtype=act), n2=torch.ones(DIM, device=dev, dtype=act),
            kc=rnd(1, HEADS, max_seq, HEAD_DIM), vc=rnd(1, HEADS, max_seq, HEAD_DIM)))
    emb = rnd(VOCAB, DIM)
    head = (torch.rand(VOCAB, DIM, device=dev, dtype=torch.float32) * 2 - 1).to(act) / math.sqrt(DIM)
    nf = torch.ones(DIM, device=dev, dtype=act)
    inv = 1.0 / (10000.0 ** (torch.arange(0, HEAD_DIM, 2, device=dev, dtype=torch.float32) / HEAD_DIM))
    ang = torch.arange(max_seq, device=dev, dtype=torch.float32)[:, None] * inv[None, :]
    cos, sin = ang.cos().to(act), ang.sin().to(act)
    causal = torch.tril(torch.ones(max_seq, max_seq, dtype=torch.bool, device=dev))

    def rms(x, w):
        return (x.float() * torch.rsqrt(x.float().pow(2).mean(-1, keepdim=True) + 1e-5)).to(act) * w

    def rope(x, pos):  # x [1, H, 1, hd], rotate_half pairs
        c, s = cos[pos].view(1, 1, 1, -1), sin[pos].view(1, 1, 1, -1)
        a, b = x[..., : HEAD_DIM // 2], x[..., HEAD_DIM // 2:]
        return torch.cat([a * c - b * s, b * c + a * s], dim=-1)

    def step(tok, pos):
        x = emb[tok]  # [1, DIM]
        mask = causal[pos].view(1, 1, 1, max_seq)
        for l in layers:
            qkv = l["wqkv"](rms(x, l["n1"]))
            q, k, v = (t.view(1, 1, HEADS, HEAD_DIM).transpose(1, 2) for t in qkv.split(DIM, dim=-1))
            q, k = rope(q, pos), rope(k, pos)
            l["kc"].index_copy_(2, pos, k)
            l["vc"].index_copy_(2, pos, v)
            o = F.scaled_dot_product_attention(q, l["kc"], l["vc"], attn_mask=mask)
            x = x + l["wo"](o.transpose(1, 2).reshape(1, DIM))
            gu = l["w13"](rms(x, l["n2"]))
            x = x + l["w2"](F.silu(gu[:, :FFN]) * gu[:, FFN:])
        return (rms(x, nf) @ head.t()).argmax(-1)

    for l in layers:  # the caches are mutated in place: fixed addresses keep the step inside one CUDA graph
        torch._dynamo.mark_static_address(l["kc"])
        torch._dynamo.mark_static_address(l["vc"])
    compiled = torch.compile(step, mode="reduce-overhead", fullgraph=True)
    tok = torch.zeros(1, dtype=torch.long, device=dev)
    pos = torch.tensor([args.prompt], dtype=torch.long, device=dev)
    t_compile = time.perf_counter()
    for i in range(3):  # compile, record, replay
        pos.fill_(args.prompt + i)
        tok = compiled(tok, pos).clone()
    torch.cuda.synchronize()
    t_compile = time.perf_counter() - t_compile
    t0 = time.perf_counter()
    for i in range(args.tokens):
        pos.fill_(args.prompt + i)
        tok = compiled(tok, pos).clone()
    torch.cuda.synchronize()
    sec = (time.perf_counter() - t0) / args.tokens
    weight_bytes = sum(l[m].bytes for l in layers for m in ("wqkv", "wo", "w13", "w2")) + VOCAB * DIM * 2
    kv_bytes = LAYERS * 2 * (args.prompt + args.tokens // 2) * DIM * 2  # the average context read per token
    bytes_per_token = weight_bytes + kv_bytes
    bw = copy_bandwidth(dev)
    print(json.dumps({
        "engine": "pytorch " + torch.__version__ + ", torch.compile reduce-overhead, static KV cache",
        "weights": "fp16" if args.mode == "fp16" else "int4 tinygemm g128 (bf16 activations, bf16 head)",
        "shape": "llama-2-7b (random)", "gpu": torch.cuda.get_device_name(), "prompt_tokens": args.prompt,
        "decode_tok_s": 1.0 / sec, "bytes_per_token": bytes_per_token, "copy_bandwidth_gb_s": bw / 1e9,
        "roofline_fraction": bytes_per_token / sec / bw, "compile_s": t_compile}))


if __name__ == "__main__":
    main()
