#!/usr/bin/env python3
"""Cross-checks an exported demo model against Hugging Face transformers' own Llama.

Loads DIR (model.safetensors + config.json + tokenizer files written by train.py) with
transformers.LlamaForCausalLM and compares, for every greedy sample recorded in DIR/metrics.json, the top-5
logits of the first generated token and the whole greedy continuation. Also renders the chat template with
the HF tokenizer and compares the prompt ids. Prints a verdict; exits 1 on a mismatch.

    python3 scripts/demo_model/check_hf.py DIR
"""
import json
import sys

import torch


def main():
    d = sys.argv[1]
    from transformers import AutoTokenizer, LlamaForCausalLM

    try:
        model = LlamaForCausalLM.from_pretrained(d, dtype=torch.float32)
    except TypeError:
        model = LlamaForCausalLM.from_pretrained(d, torch_dtype=torch.float32)
    model.eval()
    met = json.load(open(f"{d}/metrics.json", encoding="utf-8"))
    ok = True
    worst = 0.0
    for s in met["samples_greedy_fp16_weights_fp32_math"]:
        ids = torch.tensor([s["prompt_ids"]])
        with torch.no_grad():
            logits = model(ids).logits[0, -1].float()
        ref = s["first_step_top5"]
        ref_ids = [i for i, _ in ref]
        top = torch.topk(logits, 5)
        diff = max(abs(float(logits[i]) - v) for i, v in ref)
        worst = max(worst, diff)
        same_top = top.indices.tolist() == ref_ids
        with torch.no_grad():
            gen = model.generate(ids, attention_mask=torch.ones_like(ids), max_new_tokens=len(s["output_ids"]),
                                 do_sample=False, eos_token_id=2, pad_token_id=0)
        out = gen[0, ids.shape[1]:].tolist()
        same_gen = out == s["output_ids"]
        ok &= same_top and same_gen and diff < 1e-2
        print(f"{s['prompt']!r}: top5 same={same_top} max|dlogit|={diff:.2e} greedy same={same_gen}")
    try:
        tok = AutoTokenizer.from_pretrained(d)
        for s in met["samples_greedy_fp16_weights_fp32_math"]:
            r = tok.apply_chat_template([{"role": "user", "content": s["prompt"]}], tokenize=True)
            if isinstance(r, dict) or hasattr(r, "keys"):
                r = r["input_ids"]
            same = list(r) == s["prompt_ids"]
            ok &= same
            if not same:
                print(f"chat template ids differ for {s['prompt']!r}: hf {list(r)} ours {s['prompt_ids']}")
        print("HF tokenizer + chat_template: prompt ids", "match" if ok else "DIFFER", f"({type(tok).__name__})")
    except Exception as e:  # the weights check above is the one that matters
        print(f"HF tokenizer check skipped: {type(e).__name__}: {e}")
    print(f"check_hf: {'OK' if ok else 'MISMATCH'} (worst top-5 logit difference {worst:.2e})")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
