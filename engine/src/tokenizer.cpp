#include "tokenizer.h"

#include <sentencepiece_processor.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <set>

#include "byte_level_bpe.h"
#include "gguf.h"
#include "gguf_vocab.h"
#include "json_util.h"
#include "tokenizer_json.h"

namespace fs = std::filesystem;

namespace jetchat {
namespace {

constexpr std::string_view kSpaceSymbol = "\xe2\x96\x81";      // U+2581: SentencePiece's visible space
constexpr std::string_view kReplacement = "\xef\xbf\xbd";      // U+FFFD
constexpr std::string_view kUnknownSurface = " \xe2\x81\x87 ";  // what SentencePiece decodes <unk> to

// --- The two NormalizerSpec flags that change encoding and decoding. Debian ships no sentencepiece_model.pb.h, so
// they are read from the serialized ModelProto: ModelProto.normalizer_spec = 3; NormalizerSpec.add_dummy_prefix = 3
// and remove_extra_whitespaces = 4, both defaulting to true (sentencepiece_model.proto).
constexpr uint32_t kNormalizerSpecField = 3, kAddDummyPrefixField = 3, kRemoveExtraWhitespacesField = 4;
constexpr uint32_t kWireVarint = 0, kWireLen = 2;

bool read_varint(std::string_view b, size_t& pos, uint64_t& v) {
  v = 0;
  for (int shift = 0; shift < 64 && pos < b.size(); shift += 7) {
    const auto c = uint8_t(b[pos++]);
    v |= uint64_t(c & 0x7f) << shift;
    if (!(c & 0x80)) return true;
  }
  return false;
}

// Calls visit(field, wire_type, varint_value, payload) for each field of a protobuf message; stops at malformed data.
template <typename Visit>
void for_each_field(std::string_view msg, Visit visit) {
  size_t pos = 0;
  uint64_t tag = 0, v = 0;
  while (pos < msg.size() && read_varint(msg, pos, tag)) {
    const auto wire = uint32_t(tag & 7);
    std::string_view payload;
    v = 0;
    if (wire == kWireVarint) {
      if (!read_varint(msg, pos, v)) return;
    } else if (wire == kWireLen) {
      if (!read_varint(msg, pos, v) || v > msg.size() - pos) return;
      payload = msg.substr(pos, size_t(v));
      pos += size_t(v);
    } else if (wire == 1 || wire == 5) {  // fixed64, fixed32
      const size_t n = wire == 1 ? 8 : 4;
      if (msg.size() - pos < n) return;
      pos += n;
    } else {
      return;
    }
    visit(uint32_t(tag >> 3), wire, v, payload);
  }
}

struct NormalizerFlags {
  bool add_dummy_prefix = true;
  bool remove_extra_whitespaces = true;
};

NormalizerFlags read_normalizer_flags(std::string_view model_proto) {
  NormalizerFlags f;
  for_each_field(model_proto, [&](uint32_t field, uint32_t wire, uint64_t, std::string_view spec) {
    if (field != kNormalizerSpecField || wire != kWireLen) return;
    for_each_field(spec, [&](uint32_t sub, uint32_t sub_wire, uint64_t v, std::string_view) {
      if (sub_wire != kWireVarint) return;
      if (sub == kAddDummyPrefixField) f.add_dummy_prefix = v != 0;
      if (sub == kRemoveExtraWhitespacesField) f.remove_extra_whitespaces = v != 0;
    });
  });
  return f;
}

// A second normalizer_spec appended to a serialized ModelProto is merged into the first by the protobuf parser: this
// one turns off add_dummy_prefix and keeps every other setting.
constexpr std::string_view kNoDummyPrefixSpec{"\x1a\x02\x18\x00", 4};

// --- UTF-8
enum class Utf8 { kValid, kIncomplete, kInvalid };

// Classifies the character that starts at s[i] (RFC 3629: no overlongs, surrogates or code points past U+10FFFF);
// *len is its length when valid.
Utf8 classify_utf8(std::string_view s, size_t i, size_t* len) {
  const auto c = uint8_t(s[i]);
  uint8_t lo = 0x80, hi = 0xbf;  // range of the second byte
  if (c < 0x80) {
    *len = 1;
    return Utf8::kValid;
  } else if (c >= 0xc2 && c <= 0xdf) {
    *len = 2;
  } else if (c >= 0xe0 && c <= 0xef) {
    *len = 3;
    if (c == 0xe0) lo = 0xa0;
    if (c == 0xed) hi = 0x9f;
  } else if (c >= 0xf0 && c <= 0xf4) {
    *len = 4;
    if (c == 0xf0) lo = 0x90;
    if (c == 0xf4) hi = 0x8f;
  } else {
    return Utf8::kInvalid;
  }
  for (size_t k = 1; k < *len; ++k) {
    if (i + k >= s.size()) return Utf8::kIncomplete;
    const auto b = uint8_t(s[i + k]);
    if (k == 1 ? (b < lo || b > hi) : (b < 0x80 || b > 0xbf)) return Utf8::kInvalid;
  }
  return Utf8::kValid;
}

// Appends the whole characters of `bytes` to `out`, each invalid byte as U+FFFD. An incomplete character at the end
// is left out and its length returned when hold_tail (more bytes may complete it), else it becomes U+FFFD too.
size_t append_utf8(std::string_view bytes, bool hold_tail, std::string& out) {
  size_t i = 0;
  while (i < bytes.size()) {
    size_t len = 1;
    const Utf8 kind = classify_utf8(bytes, i, &len);
    if (kind == Utf8::kValid) {
      out.append(bytes.substr(i, len));
      i += len;
    } else if (kind == Utf8::kIncomplete && hold_tail) {
      return bytes.size() - i;
    } else {
      out.append(kReplacement);
      ++i;
    }
  }
  return 0;
}

// "<|im_end|>" or {"content": "<|im_end|>", ...}, as HF writes tokens in its JSON files.
std::optional<std::string> token_text(const nlohmann::json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_object() && v.contains("content") && v["content"].is_string()) return v["content"].get<std::string>();
  return std::nullopt;
}

// A JSON file beside tokenizer.model; absent files are an empty object.
Result<nlohmann::json> read_optional_json(const std::string& path) {
  std::error_code ec;
  if (!fs::exists(path, ec)) return nlohmann::json::object();
  auto j = read_json_file(path);
  if (j && !j->is_object()) return Status(StatusCode::kInvalidFormat, path + ": expected a JSON object");
  return j;
}

}  // namespace

Tokenizer::Tokenizer() = default;
Tokenizer::~Tokenizer() = default;

Result<std::unique_ptr<Tokenizer>> Tokenizer::from_sentencepiece_file(const std::string& path) {
  std::error_code ec;
  if (!fs::exists(path, ec)) return Status(StatusCode::kNotFound, path + ": no such SentencePiece model file");
  if (!fs::is_regular_file(path, ec))
    return Status(StatusCode::kInvalidFormat, path + ": not a regular file (expected a SentencePiece model)");
  std::unique_ptr<Tokenizer> t(new Tokenizer());
  t->sp_ = std::make_unique<sentencepiece::SentencePieceProcessor>();
  const auto s = t->sp_->Load(path);
  if (!s.ok() || t->sp_->GetPieceSize() == 0)
    return Status(StatusCode::kInvalidFormat,
                  path + ": not a valid SentencePiece model (" + (s.ok() ? "no pieces" : s.ToString()) + ")");
  const Status done = t->finish_load(path);
  if (!done) return done;
  return t;
}

Result<std::unique_ptr<Tokenizer>> Tokenizer::from_gguf(const GgufFile& gguf) {
  auto model = gguf.get_string("tokenizer.ggml.model");
  if (!model) return model.status();
  if (*model == "gpt2") {
    auto vocab = bpe_vocabulary_from_gguf(gguf);
    if (!vocab) return vocab.status();
    return from_bpe(*vocab, gguf.name());
  }
  if (*model != "llama")
    return Status(StatusCode::kUnsupported, gguf.name() + ": tokenizer.ggml.model is '" + *model +
                                                "'; JetChat reads 'llama' (SentencePiece) and 'gpt2' (byte-level "
                                                "BPE) vocabularies");
  auto proto = sentencepiece_proto_from_gguf(gguf);
  if (!proto) return proto.status();
  std::unique_ptr<Tokenizer> t(new Tokenizer());
  t->sp_ = std::make_unique<sentencepiece::SentencePieceProcessor>();
  const auto s = t->sp_->LoadFromSerializedProto(*proto);
  if (!s.ok())
    return Status(StatusCode::kInvalidFormat, gguf.name() + ": SentencePiece refuses the vocabulary in "
                                                            "tokenizer.ggml.*: " + s.ToString());
  const Status done = t->finish_load(gguf.name());
  if (!done) return done;
  // The file's own BOS/EOS ids win over the pieces SentencePiece guesses by name (<s>, </s>).
  const auto n = size_t(t->vocab_size_);
  JETCHAT_TRY(read_gguf_token_id(gguf, "tokenizer.ggml.bos_token_id", n, t->bos_id_));
  JETCHAT_TRY(read_gguf_token_id(gguf, "tokenizer.ggml.eos_token_id", n, t->eos_id_));
  JETCHAT_TRY(read_gguf_token_id(gguf, "tokenizer.ggml.eot_token_id", n, t->eot_id_));
  return t;
}

Result<std::unique_ptr<Tokenizer>> Tokenizer::from_bpe(const BpeVocabulary& vocab, const std::string& where) {
  auto bpe = ByteLevelBpe::create(vocab, where);
  if (!bpe) return bpe.status();
  std::unique_ptr<Tokenizer> t(new Tokenizer());
  t->bpe_ = std::move(bpe.value());
  t->vocab_size_ = t->bpe_->size();
  for (const AddedToken& a : vocab.added) t->add_token(a.text, a.id, a.special);
  t->sort_specials();
  t->bos_id_ = vocab.bos_id;
  t->eos_id_ = vocab.eos_id;
  t->eot_id_ = vocab.eot_id;
  t->add_bos_ = vocab.add_bos;
  return t;
}

Status Tokenizer::finish_load(const std::string& where) {
  const std::string proto = sp_->serialized_model_proto();
  const NormalizerFlags flags = read_normalizer_flags(proto);
  add_dummy_prefix_ = flags.add_dummy_prefix;
  strip_first_space_ = flags.add_dummy_prefix || flags.remove_extra_whitespaces;  // as SentencePiece's decoder
  if (add_dummy_prefix_) {
    sp_continue_ = std::make_unique<sentencepiece::SentencePieceProcessor>();
    const auto c = sp_continue_->LoadFromSerializedProto(proto + std::string(kNoDummyPrefixSpec));
    if (!c.ok()) return Status(StatusCode::kInternal, where + ": cannot reload without dummy prefix: " + c.ToString());
  }
  vocab_size_ = sp_->GetPieceSize();
  bos_id_ = sp_->bos_id();
  eos_id_ = sp_->eos_id();
  // Control pieces (<s>, </s>) are special tokens, as HF declares them.
  for (int id = 0; id < vocab_size_; ++id)
    if (sp_->IsControl(id)) add_token(sp_->IdToPiece(id), id, true);
  sort_specials();
  return Status::ok();
}

Result<std::unique_ptr<Tokenizer>> Tokenizer::load(const std::string& model_dir) {
  const std::string model = model_dir + "/tokenizer.model", json = model_dir + "/tokenizer.json";
  std::error_code ec;
  auto open = [&]() -> Result<std::unique_ptr<Tokenizer>> {
    if (fs::exists(model, ec) || !fs::exists(json, ec)) return from_sentencepiece_file(model);
    auto vocab = read_tokenizer_json(json);
    if (!vocab) return vocab.status();
    return from_bpe(*vocab, json);
  };
  auto t = open();
  if (!t) return t;
  const Status s = (*t)->read_added_tokens(model_dir);
  if (!s) return s;
  return t;
}

// The JSON files are read in HF's order of precedence: added_tokens.json, then tokenizer_config.json's
// added_tokens_decoder; special_tokens_map.json says which names are special; bos/eos from tokenizer_config.json,
// then special_tokens_map.json, else the model's own; add_bos_token from tokenizer_config.json.
Status Tokenizer::read_added_tokens(const std::string& dir) {
  const std::string config_path = dir + "/tokenizer_config.json", map_path = dir + "/special_tokens_map.json",
                    added_path = dir + "/added_tokens.json";
  auto config = read_optional_json(config_path);
  if (!config) return config.status();
  auto map = read_optional_json(map_path);
  if (!map) return map.status();
  auto added = read_optional_json(added_path);
  if (!added) return added.status();

  std::set<std::string> special_names;
  for (const auto& [key, v] : map->items())
    for (const auto& item : v.is_array() ? v : nlohmann::json::array({v}))
      if (auto text = token_text(item)) special_names.insert(*text);

  for (const auto& [content, id] : added->items()) {
    if (!id.is_number_integer())
      return Status(StatusCode::kInvalidFormat, added_path + ": the id of '" + content + "' is not an integer");
    add_token(content, id.get<int32_t>(), special_names.count(content) > 0);
  }
  if (config->contains("added_tokens_decoder")) {
    const auto& decoder = (*config)["added_tokens_decoder"];
    if (!decoder.is_object())
      return Status(StatusCode::kInvalidFormat, config_path + ": added_tokens_decoder is not an object");
    for (const auto& [key, v] : decoder.items()) {
      const auto text = token_text(v);
      const bool numeric = !key.empty() && key.size() < 10 &&
                           std::all_of(key.begin(), key.end(), [](unsigned char c) { return std::isdigit(c); });
      if (!text || !numeric)
        return Status(StatusCode::kInvalidFormat, config_path + ": added_tokens_decoder entry '" + key +
                                                      "' needs a numeric id and a content string");
      const bool special = v.contains("special") && v["special"].is_boolean() ? v["special"].get<bool>()
                                                                              : special_names.count(*text) > 0;
      add_token(*text, int32_t(std::stol(key)), special);
    }
  }
  // Names in special_tokens_map.json that are plain SentencePiece pieces (<unk>, user-defined symbols).
  for (const std::string& name : special_names)
    if (auto id = find(name)) add_token(name, *id, true);
  sort_specials();

  for (const char* key : {"bos_token", "eos_token"}) {
    std::optional<std::string> name;
    if (config->contains(key)) name = token_text((*config)[key]);
    if (!name && map->contains(key)) name = token_text((*map)[key]);
    const auto id = name ? find(*name) : std::nullopt;
    if (id) (std::string_view(key) == "bos_token" ? bos_id_ : eos_id_) = *id;
  }
  if (config->contains("add_bos_token") && (*config)["add_bos_token"].is_boolean())
    add_bos_ = (*config)["add_bos_token"].get<bool>();
  return Status::ok();
}

void Tokenizer::add_token(const std::string& text, int32_t id, bool special) {
  if (text.empty() || id < 0) return;
  auto it = std::find_if(specials_.begin(), specials_.end(), [&](const Special& s) { return s.text == text; });
  if (it != specials_.end())
    *it = {text, id, special};
  else
    specials_.push_back({text, id, special});
  vocab_size_ = std::max(vocab_size_, id + 1);
}

void Tokenizer::sort_specials() {
  std::stable_sort(specials_.begin(), specials_.end(),
                   [](const Special& a, const Special& b) { return a.text.size() > b.text.size(); });
  by_id_.clear();
  starts_special_.fill(false);
  for (size_t i = 0; i < specials_.size(); ++i) {
    by_id_.emplace(specials_[i].id, i);
    starts_special_[uint8_t(specials_[i].text[0])] = true;
  }
}

const Tokenizer::Special* Tokenizer::added(int32_t id) const {
  const auto it = by_id_.find(id);
  return it == by_id_.end() ? nullptr : &specials_[it->second];
}

void Tokenizer::append_plain(std::string_view text, bool at_start, std::vector<int32_t>& ids) const {
  if (text.empty()) return;
  if (bpe_) {
    bpe_->encode(text, ids);
    return;
  }
  std::vector<int> out;
  // Errors are impossible on a loaded model; invalid UTF-8 is replaced by the normalizer, not refused.
  (at_start || !sp_continue_ ? *sp_ : *sp_continue_).Encode(text, &out);
  ids.insert(ids.end(), out.begin(), out.end());
}

std::vector<int32_t> Tokenizer::encode(std::string_view text, bool add_bos, bool parse_special) const {
  std::vector<int32_t> ids;
  if (add_bos && add_bos_ && bos_id_ >= 0) ids.push_back(bos_id_);
  // Plain text between added tokens is encoded chunk by chunk; only a chunk at the very start of the text gets the
  // dummy prefix (HF's prepend_scheme "first"), or "<|im_start|>user" would become "<|im_start|> user".
  size_t chunk = 0, i = 0;
  while (i < text.size()) {
    if (!starts_special_[uint8_t(text[i])]) {
      ++i;
      continue;
    }
    const auto match = std::find_if(specials_.begin(), specials_.end(), [&](const Special& s) {
      return (parse_special || !s.special) && text.compare(i, s.text.size(), s.text) == 0;
    });
    if (match == specials_.end()) {
      ++i;
      continue;
    }
    append_plain(text.substr(chunk, i - chunk), chunk == 0, ids);
    ids.push_back(match->id);
    i += match->text.size();
    chunk = i;
  }
  append_plain(text.substr(chunk), chunk == 0, ids);
  return ids;
}

std::vector<int32_t> Tokenizer::encode_continuation(std::string_view text) const {
  std::vector<int32_t> ids;
  append_plain(text, false, ids);
  return ids;
}

std::string Tokenizer::decode(const std::vector<int32_t>& ids) const {
  StreamDecoder dec(*this);
  std::string text;
  for (int32_t id : ids) text += dec.push(id);
  return text + dec.flush();
}

int Tokenizer::vocab_size() const { return vocab_size_; }

std::optional<int32_t> Tokenizer::find(std::string_view token) const {
  for (const Special& s : specials_)
    if (s.text == token) return s.id;
  if (bpe_) return bpe_->find_piece(token);
  const int id = sp_->PieceToId(token);
  // PieceToId answers unk_id for names it does not know.
  if (id < 0 || (sp_->IsUnknown(id) && sp_->IdToPiece(id) != token)) return std::nullopt;
  return id;
}

bool Tokenizer::is_special(int32_t id) const {
  if (const Special* s = added(id)) return s->special;
  if (bpe_) return false;
  return id >= 0 && id < sp_->GetPieceSize() && sp_->IsControl(id);
}

std::string Tokenizer::piece(int32_t id) const {
  if (const Special* s = added(id)) return s->text;
  if (bpe_) return bpe_->piece(id);
  if (id < 0 || id >= sp_->GetPieceSize()) return {};
  return sp_->IdToPiece(id);
}

std::string Tokenizer::token_bytes(int32_t id, bool first_of_sequence) const {
  if (const Special* s = added(id)) return s->special ? std::string() : s->text;
  if (bpe_) return bpe_->bytes(id);
  if (id < 0 || id >= sp_->GetPieceSize() || sp_->IsControl(id)) return {};
  if (sp_->IsUnknown(id)) return std::string(kUnknownSurface);
  const std::string p = sp_->IdToPiece(id);
  if (sp_->IsByte(id)) return std::string(1, char(std::stoi(p.substr(3, 2), nullptr, 16)));  // "<0xNN>"
  std::string_view v = p;
  // SentencePiece's decoder drops the space its normalizer put before the text: one U+2581, from the first piece
  // that is not a control token (a lone "▁" piece consumes it too, so the next word keeps its space).
  if (first_of_sequence && strip_first_space_ && v.substr(0, kSpaceSymbol.size()) == kSpaceSymbol)
    v.remove_prefix(kSpaceSymbol.size());
  std::string out;
  for (size_t at; (at = v.find(kSpaceSymbol)) != std::string_view::npos; v.remove_prefix(at + kSpaceSymbol.size()))
    out.append(v.substr(0, at)).push_back(' ');
  out.append(v);
  return out;
}

std::string StreamDecoder::push(int32_t id) {
  const std::string bytes = tok_.token_bytes(id, first_);
  first_ = first_ && tok_.is_special(id);
  // Any byte-level BPE token may continue a held character. With SentencePiece only a byte-fallback piece (one
  // byte >= 0x80) can; any other token, a silent control token included, ends it, as in SentencePiece's decoder.
  const bool continues = tok_.byte_level() || (bytes.size() == 1 && (uint8_t(bytes[0]) & 0x80));
  std::string text = continues ? std::string() : flush();
  pending_ += bytes;
  const size_t held = append_utf8(pending_, true, text);
  pending_.erase(0, pending_.size() - held);
  return text;
}

std::string StreamDecoder::flush() {
  std::string text;
  append_utf8(pending_, false, text);
  pending_.clear();
  return text;
}

}  // namespace jetchat
