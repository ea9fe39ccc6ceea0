#!/usr/bin/env bash
# Prints the folder of the model to use when none is configured: the built-in demo model when the checkout has
# one, otherwise a small random-weight model generated once into the build folder (it produces no real answers;
# it lets a first run work without any download). Usage: scripts/default-model.sh [BUILD_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
if [ -f resources/models/jetchat-demo/config.json ]; then
  echo "$PWD/resources/models/jetchat-demo"
  exit 0
fi
out="$PWD/$build/generated-model"
if [ ! -f "$out/config.json" ]; then
  mkdir -p "$out"
  # A tokenizer trained on our own docs: a few hundred pieces, enough to show text streaming.
  cat README.md docs/*.md > "$out/corpus.txt"
  spm_train --input="$out/corpus.txt" --model_prefix="$out/spm" --vocab_size=400 --model_type=bpe \
    --byte_fallback=true --hard_vocab_limit=false --minloglevel=2 >/dev/null 2>&1
  "$build/engine/jetchat-cli" make-model "$out" --shape tiny --tokenizer "$out/spm.model" >&2
  echo "note: no model configured; using a random-weight model at $out (it produces no real answers)." >&2
  echo "      point JetChat at a real model directory: jetchat-cli chat /path/to/model" >&2
fi
echo "$out"
