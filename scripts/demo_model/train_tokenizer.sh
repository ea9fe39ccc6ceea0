#!/bin/sh
# Trains the SentencePiece tokenizer of JetChat's built-in demo model on the training text that
# prepare_data.py wrote (DATA/spm_input.txt), and writes DATA/tokenizer.model and DATA/tokenizer.vocab.
#
#   sh scripts/demo_model/train_tokenizer.sh [DATA]      (DATA defaults to .demo-data)
#
# BPE, 4096 pieces, byte fallback, Llama-style special ids (<unk>=0, <s>=1, </s>=2, no pad), identity
# normalisation with whitespace kept as it is (as Llama 2's tokenizer), digits split one by one, fixed seed.
# Lines of the input are sentences, so "\n" never becomes a piece and is encoded by byte fallback as <0x0A>.
# character_coverage is 0.995, not the usual 0.9995: the Chinese poems hold about 5,500 distinct characters and
# covering 99.95 % of the text needs 4,663 of them, more than the 4,096 pieces; at 0.995, 2,378 characters get
# a piece of their own and the rarest 0.5 % of the text (about 4 % of Chinese characters) falls back to bytes.
# Made with spm_train from Debian's sentencepiece 0.1.97-3+b1; two threads, so the result does not depend on
# the machine's core count.
set -eu
DATA=${1:-.demo-data}
test -f "$DATA/spm_input.txt" || { echo "no $DATA/spm_input.txt: run prepare_data.py first" >&2; exit 1; }
spm_train \
  --input="$DATA/spm_input.txt" \
  --model_prefix="$DATA/tokenizer" \
  --model_type=bpe \
  --vocab_size=4096 \
  --character_coverage=0.995 \
  --byte_fallback=true \
  --unk_id=0 --bos_id=1 --eos_id=2 --pad_id=-1 \
  --add_dummy_prefix=true \
  --normalization_rule_name=identity \
  --remove_extra_whitespaces=false \
  --allow_whitespace_only_pieces=true \
  --split_digits=true \
  --max_sentence_length=8192 \
  --input_sentence_size=0 \
  --random_seed=1234 \
  --num_threads=2 \
  --minloglevel=1
sha256sum "$DATA/tokenizer.model"
