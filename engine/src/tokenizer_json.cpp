#include "tokenizer_json.h"

#include "json_util.h"

namespace jetchat {
namespace {

constexpr int64_t kMaxId = (int64_t(1) << 24) - 1;

Status unsupported(const std::string& path, const std::string& what) {
  return Status(StatusCode::kUnsupported, path + ": " + what + "; JetChat reads byte-level BPE tokenizers only");
}
Status invalid(const std::string& path, const std::string& what) {
  return Status(StatusCode::kInvalidFormat, path + ": " + what);
}

std::string type_of(const nlohmann::json& j) {
  return j.is_object() && j.contains("type") && j["type"].is_string() ? j["type"].get<std::string>() : "";
}

// The regex of the pre-tokenizer: a Split on a regex followed by ByteLevel without its own regex (Qwen2, Llama-3),
// or ByteLevel with GPT-2's regex.
Result<std::string> read_pre_tokenizer(const nlohmann::json& pre, const std::string& path) {
  auto byte_level = [&](const nlohmann::json& b, bool want_regex) -> Status {
    if (b.value("add_prefix_space", false)) return unsupported(path, "ByteLevel pre-tokenizer with add_prefix_space");
    if (b.value("use_regex", true) != want_regex)
      return unsupported(path, std::string("ByteLevel pre-tokenizer with use_regex ") + (want_regex ? "false" : "true") +
                                   (want_regex ? " and no Split" : " after a Split"));
    return Status::ok();
  };
  const std::string type = type_of(pre);
  if (type == "ByteLevel") {
    JETCHAT_TRY(byte_level(pre, true));
    return std::string(gpt2_pretokenizer_pattern());
  }
  if (type == "Sequence" && pre.contains("pretokenizers") && pre["pretokenizers"].is_array() &&
      pre["pretokenizers"].size() == 2) {
    const auto& split = pre["pretokenizers"][0];
    const auto& bl = pre["pretokenizers"][1];
    if (type_of(split) == "Split" && type_of(bl) == "ByteLevel") {
      const auto& pattern = split.value("pattern", nlohmann::json());
      if (!pattern.is_object() || !pattern.contains("Regex") || !pattern["Regex"].is_string())
        return unsupported(path, "Split pre-tokenizer without a Regex pattern");
      if (split.value("behavior", std::string()) != "Isolated" || split.value("invert", false))
        return unsupported(path, "Split pre-tokenizer other than behavior Isolated, invert false");
      JETCHAT_TRY(byte_level(bl, false));
      return pattern["Regex"].get<std::string>();
    }
  }
  return unsupported(path, "pre_tokenizer " + pre.dump().substr(0, 200));
}

// The normalizer: null, one Unicode normal form, or a Sequence of them (nested Sequences flattened).
Status read_normalizer(const nlohmann::json& n, const std::string& path, std::vector<UnicodeForm>& forms) {
  if (n.is_null()) return Status::ok();
  const std::string type = type_of(n);
  if (auto form = unicode_form(type)) {
    forms.push_back(*form);
    return Status::ok();
  }
  if (type == "Sequence" && n.contains("normalizers") && n["normalizers"].is_array()) {
    for (const auto& part : n["normalizers"]) JETCHAT_TRY(read_normalizer(part, path, forms));
    return Status::ok();
  }
  return Status(StatusCode::kUnsupported,
                path + ": normalizer '" + (type.empty() ? n.dump().substr(0, 200) : type) +
                    "' is not supported; JetChat applies NFC, NFD, NFKC and NFKD, alone or in a Sequence");
}

// Split "a b" (merges as older files write them) or ["a", "b"] (newer ones).
bool read_merge(const nlohmann::json& m, std::pair<std::string, std::string>& out) {
  if (m.is_array() && m.size() == 2 && m[0].is_string() && m[1].is_string()) {
    out = {m[0].get<std::string>(), m[1].get<std::string>()};
    return true;
  }
  if (!m.is_string()) return false;
  const std::string s = m.get<std::string>();
  const size_t space = s.find(' ');
  if (space == std::string::npos || space == 0 || space + 1 == s.size() || s.find(' ', space + 1) != std::string::npos)
    return false;
  out = {s.substr(0, space), s.substr(space + 1)};
  return true;
}

// The token a TemplateProcessing post-processor puts before the text (Llama-3's <|begin_of_text|>), if any.
std::optional<std::string> prepended_token(const nlohmann::json& post) {
  if (type_of(post) == "Sequence" && post.contains("processors") && post["processors"].is_array()) {
    for (const auto& p : post["processors"])
      if (auto t = prepended_token(p)) return t;
    return std::nullopt;
  }
  if (type_of(post) != "TemplateProcessing" || !post.contains("single") || !post["single"].is_array() ||
      post["single"].empty())
    return std::nullopt;
  const auto& first = post["single"][0];
  if (!first.is_object() || !first.contains("SpecialToken") || !first["SpecialToken"].is_object()) return std::nullopt;
  const auto& id = first["SpecialToken"].value("id", nlohmann::json());
  return id.is_string() ? std::optional<std::string>(id.get<std::string>()) : std::nullopt;
}

}  // namespace

Result<BpeVocabulary> read_tokenizer_json(const std::string& path) {
  auto j = read_json_file(path);
  if (!j) return j.status();
  if (!j->is_object() || !j->contains("model") || !(*j)["model"].is_object())
    return invalid(path, "no 'model' object (is this a Hugging Face tokenizer.json?)");
  const auto& model = (*j)["model"];
  if (type_of(model) != "BPE") return unsupported(path, "model type '" + type_of(model) + "'");
  if (model.value("byte_fallback", false)) return unsupported(path, "BPE with byte_fallback");
  for (const char* key : {"continuing_subword_prefix", "end_of_word_suffix"})
    if (model.contains(key) && model[key].is_string() && !model[key].get<std::string>().empty())
      return unsupported(path, std::string("BPE with a ") + key);
  BpeVocabulary v;
  JETCHAT_TRY(read_normalizer(j->value("normalizer", nlohmann::json()), path, v.normalizers));
  auto pattern = read_pre_tokenizer(j->value("pre_tokenizer", nlohmann::json()), path);
  if (!pattern) return pattern.status();
  v.pattern = *pattern;
  v.ignore_merges = model.value("ignore_merges", false);

  if (!model.contains("vocab") || !model["vocab"].is_object()) return invalid(path, "model.vocab is not an object");
  for (const auto& [piece, id] : model["vocab"].items()) {
    if (!id.is_number_integer() || id.get<int64_t>() < 0 || id.get<int64_t>() > kMaxId)
      return invalid(path, "the id of '" + piece + "' in model.vocab is not an integer from 0 to " +
                               std::to_string(kMaxId));
    const auto i = size_t(id.get<int64_t>());
    if (v.pieces.size() <= i) v.pieces.resize(i + 1);
    if (!v.pieces[i].empty()) return invalid(path, "model.vocab gives id " + std::to_string(i) + " twice");
    v.pieces[i] = piece;
  }
  if (!model.contains("merges") || !model["merges"].is_array()) return invalid(path, "model.merges is not an array");
  v.merges.reserve(model["merges"].size());
  for (const auto& m : model["merges"]) {
    std::pair<std::string, std::string> merge;
    if (!read_merge(m, merge))
      return invalid(path, "merge " + std::to_string(v.merges.size()) + " is " + m.dump() +
                               "; expected \"a b\" or [\"a\", \"b\"]");
    v.merges.push_back(std::move(merge));
  }

  const auto& added = j->value("added_tokens", nlohmann::json::array());
  if (!added.is_array()) return invalid(path, "added_tokens is not an array");
  for (const auto& a : added) {
    if (!a.is_object() || !a.contains("id") || !a["id"].is_number_integer() || !a.contains("content") ||
        !a["content"].is_string() || a["id"].get<int64_t>() < 0 || a["id"].get<int64_t>() > kMaxId)
      return invalid(path, "added token " + a.dump().substr(0, 200) + " needs an id from 0 to " +
                               std::to_string(kMaxId) + " and a content string");
    v.added.push_back({a["content"].get<std::string>(), int32_t(a["id"].get<int64_t>()), a.value("special", false)});
  }

  if (auto bos = prepended_token(j->value("post_processor", nlohmann::json()))) {
    for (const AddedToken& a : v.added)
      if (a.text == *bos) v.bos_id = a.id;
    if (v.bos_id < 0) return invalid(path, "the post-processor prepends '" + *bos + "', which is no added token");
    v.add_bos = true;
  }
  return v;
}

nlohmann::ordered_json tokenizer_json(const BpeVocabulary& v) {
  using json = nlohmann::ordered_json;
  json added = json::array();
  for (const AddedToken& a : v.added)
    added.push_back({{"id", a.id}, {"content", a.text}, {"single_word", false}, {"lstrip", false},
                     {"rstrip", false}, {"normalized", false}, {"special", a.special}});
  json vocab = json::object(), merges = json::array();
  for (size_t id = 0; id < v.pieces.size(); ++id)
    if (!v.pieces[id].empty()) vocab[v.pieces[id]] = id;
  for (const auto& [a, b] : v.merges) merges.push_back({a, b});
  json post = {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"trim_offsets", false}, {"use_regex", false}};
  if (v.add_bos) {
    std::string bos;
    for (const AddedToken& a : v.added)
      if (a.id == v.bos_id) bos = a.text;
    auto special = [&](int type_id) { return json{{"SpecialToken", {{"id", bos}, {"type_id", type_id}}}}; };
    auto sequence = [&](const char* id, int type_id) { return json{{"Sequence", {{"id", id}, {"type_id", type_id}}}}; };
    // HF's tokenizers library refuses a TemplateProcessing without "pair".
    post = {{"type", "TemplateProcessing"},
            {"single", {special(0), sequence("A", 0)}},
            {"pair", {special(0), sequence("A", 0), special(1), sequence("B", 1)}},
            {"special_tokens", {{bos, {{"id", bos}, {"ids", {v.bos_id}}, {"tokens", {bos}}}}}}};
  }
  json normalizer = nullptr;
  for (UnicodeForm f : v.normalizers) normalizer.push_back({{"type", unicode_form_name(f)}});
  if (normalizer.size() == 1) normalizer = normalizer[0];
  else if (normalizer.size() > 1) normalizer = {{"type", "Sequence"}, {"normalizers", normalizer}};
  return {{"version", "1.0"},
          {"added_tokens", added},
          {"normalizer", normalizer},
          {"pre_tokenizer",
           {{"type", "Sequence"},
            {"pretokenizers",
             {{{"type", "Split"}, {"pattern", {{"Regex", v.pattern}}}, {"behavior", "Isolated"}, {"invert", false}},
              {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"trim_offsets", true}, {"use_regex", false}}}}}},
          {"post_processor", post},
          {"decoder", {{"type", "ByteLevel"}, {"add_prefix_space", true}, {"trim_offsets", true}, {"use_regex", true}}},
          {"model",
           {{"type", "BPE"},
            {"dropout", nullptr},
            {"unk_token", nullptr},
            {"continuing_subword_prefix", nullptr},
            {"end_of_word_suffix", nullptr},
            {"fuse_unk", false},
            {"byte_fallback", false},
            {"ignore_merges", v.ignore_merges},
            {"vocab", vocab},
            {"merges", merges}}}};
}

}  // namespace jetchat
