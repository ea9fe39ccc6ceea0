#!/usr/bin/env python3
"""Builds the training corpus of JetChat's built-in demo model from Debian fortune collections.

Reads the fortune-mod data files installed by the Debian packages `fortunes`, `fortunes-min` and
`fortunes-zh` (entries separated by lines holding only `%`), cleans them, and writes single-turn chats in
the Llama-2 chat format that the engine renders: `[INST] {question} [/INST] {answer}`, where the answer is one
fortune or poem and the question is drawn with a seeded RNG from a small set of prompts in the answer's
language. Output (deterministic for a given set of installed files and --seed):

  OUT/train.jsonl, OUT/valid.jsonl, OUT/test.jsonl   one example a line: {"prompt", "answer", "lang", "source"}
  OUT/spm_input.txt                                  the rendered training examples, for spm_train
  OUT/stats.json                                     counts per collection and split, and a SHA-256 of each file

The held-out part (--heldout, 2 % by default, stratified by language) is split in halves: valid (used to pick
the checkpoint) and test (only reported). Python 3 standard library only.

    python3 scripts/demo_model/prepare_data.py --out .demo-data
"""
import argparse
import hashlib
import json
import os
import random
import re
import sys
import unicodedata

FORTUNE_DIR = "/usr/share/games/fortunes"

# Collections used, with the Debian package that ships each. Left out (see resources/models/README.md):
#   off/ (offensive collections; Debian no longer ships fortunes-off), art and ascii-art (ASCII drawings),
#   translate-me (puns that need explaining), ethnic, men-women, drugs, politics (topics where the Debian
#   maintainers' own "Offensive" criteria are most often met), zippy, startrek, pratchett, songs-poems
#   (quotations from comics, TV scripts, novels and song lyrics whose authors never licensed them).
ENGLISH = {
    "fortunes-min": ["fortunes", "literature", "riddles"],
    "fortunes": ["computers", "cookie", "debian", "definitions", "disclaimer", "education", "food", "goedel",
                 "humorists", "kids", "knghtbrd", "law", "linux", "linuxcookie", "love", "magic", "medicine",
                 "miscellaneous", "news", "paradoxum", "people", "perl", "pets", "platitudes", "science",
                 "sports", "tao", "wisdom", "work"],
}
CHINESE = {"fortunes-zh": ["tang300", "song100", "chinese"]}

EN_PROMPTS = [
    "Tell me a saying.",
    "Say something wise.",
    "Give me a fortune.",
    "Tell me a fortune cookie.",
    "Share a quote with me.",
    "Say something.",
    "Tell me something interesting.",
    "Do you have a saying for today?",
]
# Extra prompts for some collections; drawn instead of a generic one half of the time.
EN_TOPIC_PROMPTS = {
    "computers": ["Say something about computers."],
    "linux": ["Say something about Linux.", "Say something about computers."],
    "linuxcookie": ["Say something about Linux."],
    "debian": ["Say something about Debian."],
    "perl": ["Say something about programming."],
    "humorists": ["Tell me something funny."],
    "kids": ["Tell me something funny."],
    "riddles": ["Tell me a riddle."],
    "love": ["Say something about love."],
    "science": ["Say something about science."],
    "food": ["Say something about food."],
    "work": ["Say something about work."],
    "law": ["Say something about the law."],
    "literature": ["Quote some literature."],
    "tao": ["Say something about the Way."],
}
ZH_POEM_PROMPTS = ["给我一首诗。", "说一句古诗。", "念一首诗吧。", "来一首古诗词。"]
ZH_PROMPTS = ["说一句古诗。", "说一句名言。", "说点有智慧的话。", "给我一句古人的话。", "来一句格言。"]

# Entries holding one of these (case-insensitive, whole word) are dropped: a default model should not swear.
BLOCKLIST = ["fuck", "fucking", "fucked", "shit", "bitch", "bastard", "cunt", "nigger", "nigga", "fag", "faggot",
             "rape", "raped", "whore", "slut", "dick", "cock", "penis", "vagina", "pussy", "tits", "orgasm",
             "sex", "sexy", "sexual", "masturbate", "porn", "pornography", "kill yourself", "retard"]
BLOCK_RE = re.compile(r"\b(" + "|".join(re.escape(w) for w in BLOCKLIST) + r")\b", re.IGNORECASE)

ANSI_RE = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
CJK_RE = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
LATIN_RE = re.compile(r"[A-Za-z]")
BOX_RE = re.compile(r"[\u2500-\u259f]")
# E-mail addresses and Usenet message ids: removed from attribution lines, elsewhere the entry is dropped.
EMAIL_RE = re.compile(r"[<(\[]?[A-Za-z0-9._%+=-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+[>)\]]?"
                      r"|[<(][A-Za-z0-9._%+=-]+@[A-Za-z0-9.-]+[>)]")

EN_MAX_CHARS, EN_MAX_LINES = 600, 12
ZH_MAX_CHARS, ZH_MAX_LINES = 320, 14
MIN_CHARS = 8


def read_entries(path):
    with open(path, "rb") as f:
        raw = f.read().decode("utf-8", errors="replace")
    entries, cur = [], []
    for line in raw.split("\n"):
        if line.rstrip("\r") == "%":
            entries.append("\n".join(cur))
            cur = []
        else:
            cur.append(line)
    entries.append("\n".join(cur))
    return entries


def strip_overstrike(s):
    # nroff-style overstrike: "_\bx" (underline) and "x\bx" (bold) both print x.
    while "\b" in s:
        s2 = re.sub(r".\x08", "", s, count=0)
        if s2 == s:
            s2 = s.replace("\b", "")
        s = s2
    return s


def clean(text, lang):
    """The cleaned entry, or None when it is unfit for training."""
    t = ANSI_RE.sub("", text)
    t = strip_overstrike(t)
    t = unicodedata.normalize("NFC", t)
    if "\ufffd" in t or BOX_RE.search(t):
        return None
    t = "".join(ch for ch in t if ch in "\n\t" or unicodedata.category(ch)[0] != "C")
    lines = []
    for line in t.split("\n"):
        line = line.replace("\t", " ").strip()
        line = re.sub(r" {2,}", " ", line)
        if line.startswith("--") and not line.startswith("---"):
            line = EMAIL_RE.sub("", line[2:])
            line = re.sub(r"\s*([,;:])(\s*[,;:])+", r"\1", line)
            line = re.sub(r"\s+(in|to)$", "", re.sub(r" {2,}", " ", line).strip(" ,;:"))
            line = "-- " + line.strip(" ,;:")
            if line == "--":
                continue
        lines.append(line)
    # Drop leading/trailing blank lines and collapse runs of blank lines to one.
    out = []
    for line in lines:
        if line == "" and (not out or out[-1] == ""):
            continue
        out.append(line)
    while out and out[-1] == "":
        out.pop()
    if not out:
        return None
    t = "\n".join(out)
    nonspace = [c for c in t if not c.isspace()]
    if len(t) < MIN_CHARS or not nonspace or EMAIL_RE.search(t):
        return None
    if lang == "en":
        if len(t) > EN_MAX_CHARS or len(out) > EN_MAX_LINES:
            return None
        if any(ord(c) > 0x2fff for c in t):
            return None
        wordish = sum(1 for c in nonspace if c.isalnum())
        if wordish / len(nonspace) < 0.7:  # ASCII art, tables, code
            return None
        if BLOCK_RE.search(t):
            return None
    else:
        if len(t) > ZH_MAX_CHARS or len(out) > ZH_MAX_LINES:
            return None
        cjk = len(CJK_RE.findall(t))
        latin = len(LATIN_RE.findall(t))
        if cjk / len(nonspace) < 0.5 or latin / len(nonspace) > 0.05:  # Debian manual pages, code, mixed text
            return None
    return t


def render(prompt, answer):
    return f"[INST] {prompt} [/INST] {answer}"


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        h.update(f.read())
    return h.hexdigest()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True, help="output folder")
    ap.add_argument("--fortune-dir", default=FORTUNE_DIR)
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--heldout", type=float, default=0.02, help="held-out fraction (valid + test)")
    args = ap.parse_args()

    rng = random.Random(args.seed)
    seen = set()
    examples = {"en": [], "zh": []}
    stats = {"seed": args.seed, "collections": {}, "source_sha256": {}}
    for lang, packages in (("en", ENGLISH), ("zh", CHINESE)):
        for package, names in packages.items():
            for name in names:
                path = os.path.join(args.fortune_dir, name)
                if not os.path.exists(path):
                    sys.exit(f"missing {path}: apt-get install -y fortunes fortunes-zh")
                stats["source_sha256"][name] = sha256(path)
                raw = read_entries(path)
                kept = 0
                for entry in raw:
                    t = clean(entry, lang)
                    if t is None or t in seen:
                        continue
                    seen.add(t)
                    kept += 1
                    examples[lang].append({"answer": t, "lang": lang, "source": f"{package}:{name}"})
                stats["collections"][name] = {"package": package, "lang": lang, "entries": len(raw), "kept": kept}

    # Prompts: a seeded draw per example, in the answer's language.
    for ex in examples["en"] + examples["zh"]:
        name = ex["source"].split(":")[1]
        if ex["lang"] == "zh":
            ex["prompt"] = rng.choice(ZH_POEM_PROMPTS if name in ("tang300", "song100") else ZH_PROMPTS)
        elif name in EN_TOPIC_PROMPTS and rng.random() < 0.5:
            ex["prompt"] = rng.choice(EN_TOPIC_PROMPTS[name])
        else:
            ex["prompt"] = rng.choice(EN_PROMPTS)

    splits = {"train": [], "valid": [], "test": []}
    for lang in ("en", "zh"):
        items = examples[lang]
        rng.shuffle(items)
        n_held = max(2, int(round(len(items) * args.heldout)))
        n_valid = n_held // 2
        splits["valid"] += items[:n_valid]
        splits["test"] += items[n_valid:n_held]
        splits["train"] += items[n_held:]
    for k in splits:
        rng.shuffle(splits[k])

    os.makedirs(args.out, exist_ok=True)
    keys = ("prompt", "answer", "lang", "source")
    for k, items in splits.items():
        with open(os.path.join(args.out, f"{k}.jsonl"), "w", encoding="utf-8", newline="\n") as f:
            for ex in items:
                f.write(json.dumps({key: ex[key] for key in keys}, ensure_ascii=False) + "\n")
    with open(os.path.join(args.out, "spm_input.txt"), "w", encoding="utf-8", newline="\n") as f:
        for ex in splits["train"]:
            f.write(render(ex["prompt"], ex["answer"]) + "\n")

    stats["splits"] = {k: {"examples": len(v), "en": sum(e["lang"] == "en" for e in v),
                           "zh": sum(e["lang"] == "zh" for e in v),
                           "answer_chars": sum(len(e["answer"]) for e in v)} for k, v in splits.items()}
    stats["output_sha256"] = {f: sha256(os.path.join(args.out, f))
                              for f in ("train.jsonl", "valid.jsonl", "test.jsonl", "spm_input.txt")}
    with open(os.path.join(args.out, "stats.json"), "w", encoding="utf-8") as f:
        json.dump(stats, f, ensure_ascii=False, indent=1)
    for k, v in stats["splits"].items():
        print(f"{k:5s} {v['examples']:6d} examples ({v['en']} en, {v['zh']} zh), {v['answer_chars']} answer chars")


if __name__ == "__main__":
    main()
