#!/usr/bin/env python3
"""Trains JetChat's built-in demo model: a ~7M-parameter Llama on single-turn chats made from Debian's fortunes.

A plain, self-contained Llama in PyTorch (RMSNorm, rotate-half RoPE, SwiGLU MLP, no biases, tied input/output
embeddings) with Hugging Face LlamaForCausalLM tensor names, so the result loads as an HF-style checkpoint.

Input (DATA): train.jsonl, valid.jsonl, test.jsonl from prepare_data.py and tokenizer.model from
train_tokenizer.sh. Each example is tokenised as BOS + ids("[INST] {prompt} [/INST] {answer}") + EOS; whole
examples are packed into 256-token rows (never split; an example attends only to itself, and its RoPE positions
start at 0 as they do in the engine); the loss counts only the answer's tokens and the EOS, never the prompt,
the padding or the step from one example to the next.

Output (OUT): model.safetensors (fp16, the checkpoint with the lowest validation loss), config.json,
tokenizer.model, tokenizer_config.json, loss.csv, metrics.json (parameter count, losses, held-out perplexity,
greedy samples with their token ids, reference logits) and train_log.txt.

    python3 scripts/demo_model/train.py --data .demo-data --out OUT            # defaults = the shipped run
    python3 scripts/demo_model/train.py --data .demo-data --out /tmp/x --steps 20 --device cpu   # smoke test

Needs torch, sentencepiece and safetensors.
"""
import os

# Deterministic cuBLAS; must be set before CUDA starts.
os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")

import argparse
import json
import math
import random
import shutil
import sys
import time

import sentencepiece as spm
import torch
import torch.nn as nn
import torch.nn.functional as F
from safetensors.torch import save_file

IGNORE = -100

LLAMA2_CHAT_TEMPLATE = (
    "{% if messages[0]['role'] == 'system' %}{% set loop_messages = messages[1:] %}"
    "{% set system_message = messages[0]['content'] %}{% else %}{% set loop_messages = messages %}"
    "{% set system_message = false %}{% endif %}{% for message in loop_messages %}"
    "{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}"
    "{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}"
    "{% if loop.index0 == 0 and system_message != false %}"
    "{% set content = '<<SYS>>\\n' + system_message + '\\n<</SYS>>\\n\\n' + message['content'] %}"
    "{% else %}{% set content = message['content'] %}{% endif %}"
    "{% if message['role'] == 'user' %}{{ bos_token + '[INST] ' + content.strip() + ' [/INST]' }}"
    "{% elif message['role'] == 'assistant' %}{{ ' ' + content.strip() + ' ' + eos_token }}{% endif %}"
    "{% endfor %}"
)

SAMPLE_PROMPTS = [
    "Tell me a saying.",
    "Give me a fortune.",
    "Say something wise.",
    "Say something about Linux.",
    "Tell me a riddle.",
    "Hello! Who are you?",
    "给我一首诗。",
    "说一句古诗。",
    "说一句名言。",
]


# ----------------------------------------------------------------------------------------------------- model


class RMSNorm(nn.Module):
    def __init__(self, dim, eps):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(dim))

    def forward(self, x):
        dtype = x.dtype
        x = x.float()
        x = x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps)
        return self.weight * x.to(dtype)


def rotate_half(x):
    x1, x2 = x.chunk(2, dim=-1)
    return torch.cat((-x2, x1), dim=-1)


class Attention(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        h, self.n_heads, self.n_kv, self.hd = cfg["hidden_size"], cfg["num_attention_heads"], \
            cfg["num_key_value_heads"], cfg["head_dim"]
        self.q_proj = nn.Linear(h, self.n_heads * self.hd, bias=False)
        self.k_proj = nn.Linear(h, self.n_kv * self.hd, bias=False)
        self.v_proj = nn.Linear(h, self.n_kv * self.hd, bias=False)
        self.o_proj = nn.Linear(self.n_heads * self.hd, h, bias=False)

    def forward(self, x, cos, sin, mask):
        b, t, _ = x.shape
        q = self.q_proj(x).view(b, t, self.n_heads, self.hd).transpose(1, 2)
        k = self.k_proj(x).view(b, t, self.n_kv, self.hd).transpose(1, 2)
        v = self.v_proj(x).view(b, t, self.n_kv, self.hd).transpose(1, 2)
        cos, sin = cos.to(q.dtype), sin.to(q.dtype)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        if self.n_kv != self.n_heads:
            rep = self.n_heads // self.n_kv
            k = k.repeat_interleave(rep, dim=1)
            v = v.repeat_interleave(rep, dim=1)
        y = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
        return self.o_proj(y.transpose(1, 2).reshape(b, t, self.n_heads * self.hd))


class MLP(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        h, i = cfg["hidden_size"], cfg["intermediate_size"]
        self.gate_proj = nn.Linear(h, i, bias=False)
        self.up_proj = nn.Linear(h, i, bias=False)
        self.down_proj = nn.Linear(i, h, bias=False)

    def forward(self, x):
        return self.down_proj(F.silu(self.gate_proj(x)) * self.up_proj(x))


class DecoderLayer(nn.Module):
    def __init__(self, cfg, dropout):
        super().__init__()
        self.input_layernorm = RMSNorm(cfg["hidden_size"], cfg["rms_norm_eps"])
        self.self_attn = Attention(cfg)
        self.post_attention_layernorm = RMSNorm(cfg["hidden_size"], cfg["rms_norm_eps"])
        self.mlp = MLP(cfg)
        self.drop = nn.Dropout(dropout)

    def forward(self, x, cos, sin, mask):
        x = x + self.drop(self.self_attn(self.input_layernorm(x), cos, sin, mask))
        return x + self.drop(self.mlp(self.post_attention_layernorm(x)))


class Backbone(nn.Module):
    def __init__(self, cfg, dropout):
        super().__init__()
        self.embed_tokens = nn.Embedding(cfg["vocab_size"], cfg["hidden_size"])
        self.layers = nn.ModuleList([DecoderLayer(cfg, dropout) for _ in range(cfg["num_hidden_layers"])])
        self.norm = RMSNorm(cfg["hidden_size"], cfg["rms_norm_eps"])


class LlamaForCausalLM(nn.Module):
    """State-dict keys are those of transformers' LlamaForCausalLM (without lm_head: it is tied)."""

    def __init__(self, cfg, dropout=0.0):
        super().__init__()
        self.cfg = cfg
        self.model = Backbone(cfg, dropout)
        self.drop = nn.Dropout(dropout)
        hd = cfg["head_dim"]
        inv_freq = 1.0 / (cfg["rope_theta"] ** (torch.arange(0, hd, 2, dtype=torch.float64) / hd))
        pos = torch.arange(cfg["max_position_embeddings"], dtype=torch.float64)
        freqs = torch.outer(pos, inv_freq)
        emb = torch.cat((freqs, freqs), dim=-1)
        self.register_buffer("cos_table", emb.cos().float(), persistent=False)
        self.register_buffer("sin_table", emb.sin().float(), persistent=False)

    def init_weights(self, n_layers):
        for name, p in self.named_parameters():
            if name.endswith("layernorm.weight") or name == "model.norm.weight":
                nn.init.ones_(p)
            elif name.endswith("o_proj.weight") or name.endswith("down_proj.weight"):
                nn.init.normal_(p, mean=0.0, std=0.02 / math.sqrt(2 * n_layers))
            else:
                nn.init.normal_(p, mean=0.0, std=0.02)

    def forward(self, ids, pos, seg):
        """ids, pos, seg: (B, T) token ids, RoPE positions and example ids (attention stays within one)."""
        t = ids.shape[1]
        cos = self.cos_table[pos].unsqueeze(1)  # (B, 1, T, hd)
        sin = self.sin_table[pos].unsqueeze(1)
        causal = torch.ones(t, t, dtype=torch.bool, device=ids.device).tril()
        mask = ((seg.unsqueeze(2) == seg.unsqueeze(1)) & causal).unsqueeze(1)  # (B, 1, T, T)
        x = self.drop(self.model.embed_tokens(ids))
        for layer in self.model.layers:
            x = layer(x, cos, sin, mask)
        x = self.model.norm(x)
        return F.linear(x, self.model.embed_tokens.weight)


# ------------------------------------------------------------------------------------------------------ data


def render(prompt, answer=None):
    return f"[INST] {prompt} [/INST]" + ("" if answer is None else f" {answer}")


def load_jsonl(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def tokenize(sp, records, seq_len):
    """[(inputs, targets, lang)] with targets IGNORE outside the answer; drops examples longer than a row."""
    bos, eos = sp.bos_id(), sp.eos_id()
    out, dropped, prefix_mismatch = [], 0, 0
    for r in records:
        ids = [bos] + sp.encode(render(r["prompt"], r["answer"])) + [eos]
        if len(ids) - 1 > seq_len:
            dropped += 1
            continue
        head = [bos] + sp.encode(render(r["prompt"]))
        if ids[:len(head)] == head:
            n_prompt = len(head)
        else:  # cannot happen with whitespace-split pieces; then the loss counts the whole example
            prefix_mismatch += 1
            n_prompt = 1
        inputs = ids[:-1]
        # targets[i] is ids[i + 1]; it counts when ids[i + 1] belongs to the answer (or is the EOS).
        targets = [tok if i + 1 >= n_prompt else IGNORE for i, tok in enumerate(ids[1:])]
        out.append((inputs, targets, r["lang"]))
    return out, dropped, prefix_mismatch


class Dataset:
    """Tokenised examples as flat tensors on the device, packed into rows on demand."""

    def __init__(self, examples, device):
        self.n = len(examples)
        self.lengths = [len(x[0]) for x in examples]
        self.langs = [x[2] for x in examples]
        self.inputs = torch.tensor([t for x in examples for t in x[0]], dtype=torch.long, device=device)
        self.targets = torch.tensor([t for x in examples for t in x[1]], dtype=torch.long, device=device)
        starts, acc = [], 0
        for n in self.lengths:
            starts.append(acc)
            acc += n
        self.starts = starts
        self.device = device

    def counted(self):
        return int((self.targets != IGNORE).sum().item())

    def pack(self, order, seq_len):
        """Greedy packing of whole examples, in `order`, into rows of seq_len tokens.
        Returns (ids, targets, pos, seg), each (rows, seq_len); padding has target IGNORE and seg -1."""
        rows, offs, slots = [], [], []  # per example in `order`
        row, off, slot = 0, 0, 0
        for k in order:
            n = self.lengths[k]
            if off + n > seq_len:
                row, off, slot = row + 1, 0, 0
            rows.append(row)
            offs.append(off)
            slots.append(slot)
            off += n
            slot += 1
        n_rows = row + 1 if order else 0
        dev = self.device
        lens = torch.tensor([self.lengths[k] for k in order], dtype=torch.long, device=dev)
        first = torch.tensor([self.starts[k] for k in order], dtype=torch.long, device=dev)
        dest0 = torch.tensor(rows, dtype=torch.long, device=dev) * seq_len + torch.tensor(offs, dtype=torch.long,
                                                                                           device=dev)
        slot_t = torch.tensor(slots, dtype=torch.long, device=dev)
        total = int(lens.sum().item())
        ex_of_tok = torch.repeat_interleave(torch.arange(len(order), device=dev), lens)
        tok_begin = torch.cumsum(lens, 0) - lens  # index of each example's first token in this packing
        within = torch.arange(total, device=dev) - tok_begin[ex_of_tok]
        dest = dest0[ex_of_tok] + within
        src = first[ex_of_tok] + within
        size = n_rows * seq_len
        ids = torch.zeros(size, dtype=torch.long, device=dev)
        tgt = torch.full((size,), IGNORE, dtype=torch.long, device=dev)
        pos = torch.zeros(size, dtype=torch.long, device=dev)
        seg = torch.full((size,), -1, dtype=torch.long, device=dev)
        ids[dest] = self.inputs[src]
        tgt[dest] = self.targets[src]
        pos[dest] = within
        seg[dest] = slot_t[ex_of_tok]
        shape = (n_rows, seq_len)
        return ids.view(shape), tgt.view(shape), pos.view(shape), seg.view(shape)


# ----------------------------------------------------------------------------------------------- train/eval


def lr_at(step, args):
    if step < args.warmup:
        return args.lr * (step + 1) / args.warmup
    p = min(1.0, (step - args.warmup) / max(1, args.steps - args.warmup))
    return args.min_lr + 0.5 * (args.lr - args.min_lr) * (1 + math.cos(math.pi * p))


@torch.no_grad()
def evaluate(model, batches, amp):
    """(mean NLL over counted tokens, counted tokens)."""
    model.eval()
    total, count = 0.0, 0
    for ids, tgt, pos, seg in batches:
        with amp():
            logits = model(ids, pos, seg)
        loss = F.cross_entropy(logits.float().view(-1, logits.shape[-1]), tgt.view(-1), ignore_index=IGNORE,
                               reduction="sum")
        total += loss.item()
        count += int((tgt != IGNORE).sum().item())
    model.train()
    return total / max(1, count), count


def eval_batches(ds, seq_len, batch_size, keep=None):
    """Fixed batches of a Dataset (examples in their order; `keep`: a predicate on the language)."""
    order = [k for k in range(ds.n) if keep is None or keep(ds.langs[k])]
    t = ds.pack(order, seq_len)
    n = t[0].shape[0]
    return [tuple(x[i:i + batch_size] for x in t) for i in range(0, n, batch_size)]


@torch.no_grad()
def greedy(model, prompt_ids, eos, max_new, max_pos):
    """Greedy decoding (full recompute each step, no cache). Returns (new ids, logits at the first step)."""
    model.eval()
    dev = model.cos_table.device
    ids = list(prompt_ids)
    first_logits = None
    for _ in range(max_new):
        if len(ids) >= max_pos:
            break
        x = torch.tensor([ids], dtype=torch.long, device=dev)
        p = torch.arange(len(ids), device=dev).unsqueeze(0)
        logits = model(x, p, torch.zeros_like(x))[0, -1].float()
        if first_logits is None:
            first_logits = logits.clone()
        nxt = int(torch.argmax(logits).item())
        ids.append(nxt)
        if nxt == eos:
            break
    return ids[len(prompt_ids):], first_logits


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--steps", type=int, default=6000)
    ap.add_argument("--batch-size", type=int, default=32, help="rows of --seq-len tokens per step")
    ap.add_argument("--seq-len", type=int, default=256)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--min-lr", type=float, default=1e-4)
    ap.add_argument("--warmup", type=int, default=200)
    ap.add_argument("--weight-decay", type=float, default=0.1)
    ap.add_argument("--dropout", type=float, default=0.2)
    ap.add_argument("--grad-clip", type=float, default=1.0)
    ap.add_argument("--log-every", type=int, default=50)
    ap.add_argument("--eval-every", type=int, default=250)
    ap.add_argument("--max-train-seconds", type=float, default=300.0,
                    help="safety stop: end the loop early (and say so) if training runs longer than this")
    ap.add_argument("--max-new-tokens", type=int, default=160)
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    args = ap.parse_args()

    os.makedirs(args.out, exist_ok=True)
    log_f = open(os.path.join(args.out, "train_log.txt"), "w", encoding="utf-8")

    def log(msg):
        print(msg, flush=True)
        log_f.write(msg + "\n")
        log_f.flush()

    t_start = time.time()
    random.seed(args.seed)
    torch.manual_seed(args.seed)
    torch.cuda.manual_seed_all(args.seed)
    torch.backends.cudnn.deterministic = True
    torch.backends.cudnn.benchmark = False
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.use_deterministic_algorithms(True, warn_only=True)
    dev = torch.device(args.device)
    use_bf16 = dev.type == "cuda"

    def amp():
        return torch.autocast(device_type=dev.type, dtype=torch.bfloat16, enabled=use_bf16)

    log(f"torch {torch.__version__}, device {dev}" +
        (f" ({torch.cuda.get_device_name(dev)})" if dev.type == "cuda" else "") + f", args {vars(args)}")

    sp = spm.SentencePieceProcessor(model_file=os.path.join(args.data, "tokenizer.model"))
    cfg = {
        "architectures": ["LlamaForCausalLM"],
        "model_type": "llama",
        "hidden_size": 288,
        "intermediate_size": 768,
        "num_hidden_layers": 6,
        "num_attention_heads": 6,
        "num_key_value_heads": 6,
        "head_dim": 48,
        "hidden_act": "silu",
        "max_position_embeddings": 512,
        "rms_norm_eps": 1e-5,
        "rope_theta": 10000.0,
        "rope_scaling": None,
        "attention_bias": False,
        "mlp_bias": False,
        "vocab_size": sp.get_piece_size(),
        "tie_word_embeddings": True,
        "initializer_range": 0.02,
        "torch_dtype": "float16",
        "bos_token_id": sp.bos_id(),
        "eos_token_id": sp.eos_id(),
        "use_cache": True,
    }
    assert cfg["vocab_size"] == 4096 and cfg["bos_token_id"] == 1 and cfg["eos_token_id"] == 2, cfg

    splits = {k: load_jsonl(os.path.join(args.data, f"{k}.jsonl")) for k in ("train", "valid", "test")}
    data = {}
    for k, recs in splits.items():
        data[k], dropped, mismatch = tokenize(sp, recs, args.seq_len)
        n_tok = sum(len(x[0]) for x in data[k])
        n_cnt = sum(sum(t != IGNORE for t in x[1]) for x in data[k])
        data[k] = Dataset(data[k], dev)
        log(f"{k}: {data[k].n} examples ({dropped} longer than {args.seq_len} tokens dropped, "
            f"{mismatch} prompt-prefix mismatches), {n_tok} tokens, {n_cnt} counted by the loss")
    valid_b = eval_batches(data["valid"], args.seq_len, 64)
    test_b = eval_batches(data["test"], args.seq_len, 64)

    model = LlamaForCausalLM(cfg, dropout=args.dropout).to(dev)
    model.init_weights(cfg["num_hidden_layers"])
    n_params = sum(p.numel() for p in model.parameters())
    log(f"parameters: {n_params} ({n_params / 1e6:.2f} M, embeddings tied)")

    decay = [p for n, p in model.named_parameters() if p.dim() >= 2]
    no_decay = [p for n, p in model.named_parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": args.weight_decay},
                             {"params": no_decay, "weight_decay": 0.0}],
                            lr=args.lr, betas=(0.9, 0.95), eps=1e-8, fused=dev.type == "cuda")

    csv_rows = ["step,epoch,tokens,lr,train_loss,valid_loss,elapsed_s"]
    gen = random.Random(args.seed)
    step, epoch, tokens_seen = 0, 0, 0
    best = (float("inf"), -1, None)
    run_loss, run_n = 0.0, 0
    stopped_early = False
    t_train = time.time()
    model.train()
    while step < args.steps and not stopped_early:
        order = list(range(data["train"].n))
        gen.shuffle(order)
        packed = data["train"].pack(order, args.seq_len)
        n_rows = packed[0].shape[0]
        row_order = list(range(n_rows))
        gen.shuffle(row_order)
        perm = torch.tensor(row_order, dtype=torch.long, device=dev)
        ids_all, tgt_all, pos_all, seg_all = (x[perm] for x in packed)
        n_batches = n_rows // args.batch_size
        if epoch == 0:
            fill = (seg_all >= 0).float().mean().item()
            log(f"epoch rows: {n_rows} ({fill:.1%} filled), {n_batches} steps per epoch "
                f"(the last {n_rows - n_batches * args.batch_size} rows of each shuffled epoch are left out)")
        for bi in range(n_batches):
            if step >= args.steps:
                break
            sl = slice(bi * args.batch_size, (bi + 1) * args.batch_size)
            ids, tgt, pos, seg = ids_all[sl], tgt_all[sl], pos_all[sl], seg_all[sl]
            lr = lr_at(step, args)
            for g in opt.param_groups:
                g["lr"] = lr
            with amp():
                logits = model(ids, pos, seg)
            loss = F.cross_entropy(logits.float().view(-1, logits.shape[-1]), tgt.view(-1), ignore_index=IGNORE)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), args.grad_clip)
            opt.step()
            step += 1
            tokens_seen += ids.numel()
            run_loss = run_loss + loss.detach()
            run_n += 1
            valid_loss = None
            if step % args.eval_every == 0 or step == args.steps:
                valid_loss, _ = evaluate(model, valid_b, amp)
                if valid_loss < best[0]:
                    best = (valid_loss, step, {k: v.detach().clone() for k, v in model.state_dict().items()})
            if step % args.log_every == 0 or step == 1 or valid_loss is not None:
                tl = float(run_loss) / run_n
                run_loss, run_n = 0.0, 0
                el = time.time() - t_train
                csv_rows.append(f"{step},{epoch},{tokens_seen},{lr:.6g},{tl:.4f},"
                                f"{'' if valid_loss is None else f'{valid_loss:.4f}'},{el:.1f}")
                log(f"step {step:5d} ep {epoch:3d} lr {lr:.2e} train {tl:.4f}" +
                    ("" if valid_loss is None else f" valid {valid_loss:.4f} (ppl {math.exp(valid_loss):.2f})") +
                    f"  {el:.0f}s")
            if time.time() - t_train > args.max_train_seconds:
                log(f"safety stop at step {step}: training passed {args.max_train_seconds} s")
                stopped_early = True
                break
        epoch += 1
    train_seconds = time.time() - t_train
    if best[2] is None or (stopped_early and step % args.eval_every != 0):
        vl, _ = evaluate(model, valid_b, amp)
        if vl < best[0]:
            best = (vl, step, {k: v.detach().clone() for k, v in model.state_dict().items()})
    log(f"training: {step} steps, {epoch} epochs started, {tokens_seen} tokens, {train_seconds:.1f} s; "
        f"best valid loss {best[0]:.4f} at step {best[1]}")

    # Export the best checkpoint as fp16, then evaluate and sample from exactly those fp16 weights (run in fp32).
    sd = {k: v.detach().to(torch.float16).contiguous().cpu() for k, v in best[2].items()}
    save_file(sd, os.path.join(args.out, "model.safetensors"), metadata={"format": "pt"})
    with open(os.path.join(args.out, "config.json"), "w") as f:
        json.dump(cfg, f, indent=2)
    shutil.copyfile(os.path.join(args.data, "tokenizer.model"), os.path.join(args.out, "tokenizer.model"))
    tok_cfg = {
        "tokenizer_class": "LlamaTokenizer",
        "add_bos_token": True,
        "add_eos_token": False,
        "bos_token": "<s>",
        "eos_token": "</s>",
        "unk_token": "<unk>",
        "pad_token": None,
        # legacy=True: text right after a special token still gets SentencePiece's dummy prefix, so the chat
        # template gives BOS, "▁[", "INST", ... as Meta's Llama 2 code (and this training) does; with legacy=False
        # transformers' tokenizer gives BOS, "[", ... (seen on the first run, with transformers 5.17).
        "legacy": True,
        "add_prefix_space": True,
        "clean_up_tokenization_spaces": False,
        "model_max_length": cfg["max_position_embeddings"],
        "sp_model_kwargs": {},
        "chat_template": LLAMA2_CHAT_TEMPLATE,
    }
    with open(os.path.join(args.out, "tokenizer_config.json"), "w", encoding="utf-8") as f:
        json.dump(tok_cfg, f, indent=2, ensure_ascii=False)

    ref = LlamaForCausalLM(cfg, dropout=0.0).to(dev)
    ref.load_state_dict({k: v.float() for k, v in sd.items()})
    ref.eval()
    fp32 = lambda: torch.autocast(device_type=dev.type, enabled=False)  # noqa: E731
    results = {}
    for k, batches in (("valid", valid_b), ("test", test_b)):
        nll, cnt = evaluate(ref, batches, fp32)
        per_lang = {}
        for lang in ("en", "zh"):
            lnll, lcnt = evaluate(ref, eval_batches(data[k], args.seq_len, 64, lambda lg: lg == lang), fp32)
            per_lang[lang] = {"nll": round(lnll, 4), "ppl": round(math.exp(lnll), 3), "tokens": lcnt}
        results[k] = {"nll": round(nll, 4), "ppl": round(math.exp(nll), 3), "tokens": cnt, "by_language": per_lang}
        log(f"{k} (fp16 weights): loss {nll:.4f}, perplexity {math.exp(nll):.3f} over {cnt} answer tokens; " +
            ", ".join(f"{lg} ppl {v['ppl']:.2f}" for lg, v in per_lang.items()))
    # Final training loss of the exported weights, over a fixed slice of the training set, without dropout.
    first = data["train"].pack(list(range(min(2000, data["train"].n))), args.seq_len)
    tr_nll, _ = evaluate(ref, [tuple(x[i:i + 64] for x in first) for i in range(0, first[0].shape[0], 64)], fp32)
    log(f"train (fp16 weights, first 2000 examples, no dropout): loss {tr_nll:.4f}, perplexity {math.exp(tr_nll):.3f}")

    samples = []
    for prompt in SAMPLE_PROMPTS:
        pids = [sp.bos_id()] + sp.encode(render(prompt))
        out_ids, first = greedy(ref, pids, sp.eos_id(), args.max_new_tokens, cfg["max_position_embeddings"])
        text_ids = out_ids[:-1] if out_ids and out_ids[-1] == sp.eos_id() else out_ids
        text = sp.decode(text_ids)
        top = torch.topk(first, 5)
        samples.append({"prompt": prompt, "prompt_ids": pids, "output_ids": out_ids, "output": text,
                        "ended_with_eos": bool(out_ids and out_ids[-1] == sp.eos_id()),
                        "first_step_top5": [[int(i), round(float(v), 4)] for v, i in zip(top.values, top.indices)]})
        log(f"--- [INST] {prompt} [/INST]\n{text}")

    metrics = {
        "parameters": n_params,
        "config": cfg,
        "args": vars(args),
        "seeds": {"python": args.seed, "torch": args.seed, "data_order": args.seed},
        "steps_run": step,
        "epochs_started": epoch,
        "tokens_seen": tokens_seen,
        "stopped_early": stopped_early,
        "train_seconds": round(train_seconds, 1),
        "total_seconds": round(time.time() - t_start, 1),
        "best_step": best[1],
        "best_valid_loss_bf16": round(best[0], 4),
        "final_train_loss_logged": csv_rows[-1].split(",")[4],
        "train_subset_fp16": {"nll": round(tr_nll, 4), "ppl": round(math.exp(tr_nll), 3)},
        "heldout_fp16": results,
        "device": torch.cuda.get_device_name(dev) if dev.type == "cuda" else "cpu",
        "torch": torch.__version__,
        "sentencepiece": spm.__version__,
        "samples_greedy_fp16_weights_fp32_math": samples,
    }
    with open(os.path.join(args.out, "metrics.json"), "w", encoding="utf-8") as f:
        json.dump(metrics, f, indent=1, ensure_ascii=False)
    with open(os.path.join(args.out, "loss.csv"), "w") as f:
        f.write("\n".join(csv_rows) + "\n")
    log(f"done in {time.time() - t_start:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
