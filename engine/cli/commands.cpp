#include "commands.h"

#include <csignal>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>

#include "gguf.h"
#include "gguf_convert.h"
#include "jetchat/session.h"
#include "llama2c_import.h"
#include "model_impl.h"
#include "random_checkpoint.h"
#include "tokenizer.h"

namespace jetchat::cli {

int& exit_code() {
  static int code = 0;
  return code;
}

void add_kv_cache_option(CLI::App* c, KvCacheType& t) {
  const std::map<std::string, KvCacheType> names{
      {"auto", KvCacheType::kAuto}, {"f16", KvCacheType::kF16}, {"int8", KvCacheType::kInt8}};
  c->add_option("--kv-cache", t,
                "KV cache: auto (f32 on the CPU, f16 on CUDA), f16, or int8 (a scale per token and head; about half "
                "of f16's memory)")
      ->transform(CLI::CheckedTransformer(names, CLI::ignore_case));
}

void add_head_option(CLI::App* c, HeadType& t) {
  const std::map<std::string, HeadType> names{{"auto", HeadType::kAuto}, {"q8", HeadType::kQ8}};
  c->add_option("--head", t,
                "output head: auto (as the model stores it) or q8 (quantised to 8 bits at load: about half of a "
                "16-bit head's bytes per token; a tied embedding table stays 16-bit beside it)")
      ->transform(CLI::CheckedTransformer(names, CLI::ignore_case));
}

int fail(const Status& s) {
  std::fprintf(stderr, "jetchat-cli: %s\n", s.message().c_str());
  exit_code() = 1;
  return 1;
}

namespace {

// Options shared by the commands that load a model.
struct ModelOptions {
  std::string path;
  std::string device = "cpu";
  int threads = 0;
  int context = 0;
  KvCacheType kv_cache = KvCacheType::kAuto;
  HeadType head = HeadType::kAuto;
  std::string chat_template;

  void add_to(CLI::App* c) {
    c->add_option("MODEL", path, kModelHelp)->required()->transform(model_lookup());
    c->add_option("--device", device, "cpu or cuda")->check(CLI::IsMember({"cpu", "cuda"}));
    c->add_option("--threads", threads, "CPU threads (0: all cores)");
    c->add_option("--ctx", context, "context length in tokens (0: the model's, at most 4096)");
    c->add_option("--template", chat_template, "chat template: internlm2, internlm, llama2, llama3, chatml, raw");
    add_kv_cache_option(c, kv_cache);
    add_head_option(c, head);
  }
  Result<std::shared_ptr<Model>> load() const {
    LoadParams p;
    p.device = device == "cuda" ? DeviceKind::kCuda : DeviceKind::kCpu;
    p.threads = threads;
    p.context_length = context;
    p.kv_cache = kv_cache;
    p.head = head;
    p.chat_template = chat_template;
    return Model::load(path, p);
  }
};

struct SamplingOptions {
  float temperature = 0.7f, top_p = 0.95f, min_p = 0.05f, repeat_penalty = 1.1f;
  int top_k = 40, max_tokens = 256;
  uint64_t seed = 0;
  void add_to(CLI::App* c) {
    c->add_option("--temperature", temperature, "randomness of sampling; 0 = greedy")->capture_default_str();
    c->add_option("--top-k", top_k, "sample among the k most likely tokens (0: all)")->capture_default_str();
    c->add_option("--top-p", top_p, "sample among the most likely tokens whose probabilities add up to p")
        ->capture_default_str();
    c->add_option("--min-p", min_p, "drop tokens less likely than min-p times the most likely one")
        ->capture_default_str();
    c->add_option("--repeat-penalty", repeat_penalty,
                  "penalise tokens among the last 64 (1: off; not used with --temperature 0)")
        ->capture_default_str();
    c->add_option("--seed", seed, "random seed; 0 = from the clock");
    c->add_option("--max-tokens", max_tokens, "new tokens at most")->capture_default_str();
  }
  GenerateParams params() const {
    GenerateParams g;
    g.sampling.temperature = temperature;
    g.sampling.top_k = top_k;
    g.sampling.top_p = top_p;
    g.sampling.min_p = min_p;
    g.sampling.repetition_penalty = temperature > 0 ? repeat_penalty : 1.0f;
    g.sampling.seed = seed;
    g.max_tokens = max_tokens;
    return g;
  }
};

nlohmann::json stats_json(const GenerationStats& s) {
  return {{"prompt_tokens", s.prompt_tokens}, {"cached_tokens", s.cached_tokens},
          {"generated_tokens", s.generated_tokens}, {"ttft_ms", s.ttft_ms},
          {"prefill_tok_s", s.prefill_tok_s}, {"decode_tok_s", s.decode_tok_s}, {"stop_reason", s.stop_reason}};
}

std::string mib(int64_t b) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f MiB", double(b) / (1 << 20));
  return buf;
}

// Ctrl-C during a reply stops the reply; at the prompt it ends the program as usual.
std::atomic<Session*> g_active_session{nullptr};
void on_sigint(int) {
  if (Session* s = g_active_session.load()) {
    s->cancel();
  } else {
    std::signal(SIGINT, SIG_DFL);
    std::raise(SIGINT);
  }
}

}  // namespace

void add_info(CLI::App& app) {
  auto* c = app.add_subcommand("info", "describe a model without loading its weights");
  auto path = std::make_shared<std::string>();
  auto json = std::make_shared<bool>(false);
  c->add_option("MODEL", *path, kModelHelp)->required()->transform(model_lookup());
  c->add_flag("--json", *json, "print JSON");
  c->callback([path, json] {
    auto info = ModelInfo::probe(*path);
    if (!info) return void(fail(info.status()));
    const ModelInfo& i = *info;
    nlohmann::ordered_json j = {{"name", i.name}, {"architecture", i.architecture}, {"family", i.family},
                                {"parameters", i.parameters}, {"dtype", i.dtype},
                                {"chat_template", i.chat_template}, {"vocab_size", i.vocab_size},
                                {"hidden_size", i.hidden_size}, {"layers", i.layers}, {"heads", i.heads},
                                {"kv_heads", i.kv_heads}, {"head_dim", i.head_dim},
                                {"max_context", i.max_context}, {"weight_bytes", i.weight_bytes},
                                {"q8_head_weight_bytes", i.q8_head_weight_bytes},
                                {"kv_bytes_per_1k_tokens", i.kv_bytes_per_token * 1024},
                                {"kv_int8_bytes_per_1k_tokens", i.kv_int8_bytes_per_token * 1024}};
    if (!i.chat_template_note.empty()) j["chat_template_note"] = i.chat_template_note;
    if (*json) {
      std::cout << j.dump(2) << "\n";
      return;
    }
    std::printf("%s: %s (%s), %.2f M parameters, %s weights, chat template %s\n", i.name.c_str(),
                i.architecture.c_str(), i.family.c_str(), double(i.parameters) / 1e6, i.dtype.c_str(),
                i.chat_template.c_str());
    std::printf("  %d layers, hidden %d, %d heads (%d KV) of %d, vocab %d, context up to %d\n", i.layers,
                i.hidden_size, i.heads, i.kv_heads, i.head_dim, i.vocab_size, i.max_context);
    std::printf("  memory: weights %s (%s), KV cache %s per 1K tokens (%s with --kv-cache int8)\n",
                mib(i.weight_bytes).c_str(),
                i.q8_head_weight_bytes > 0 ? (mib(i.q8_head_weight_bytes) + " with --head q8").c_str()
                                           : "no 8-bit head for this hidden size",
                mib(i.kv_bytes_per_token * 1024).c_str(), mib(i.kv_int8_bytes_per_token * 1024).c_str());
    if (!i.chat_template_note.empty()) std::printf("  note: %s\n", i.chat_template_note.c_str());
  });
}

void add_generate(CLI::App& app) {
  auto* c = app.add_subcommand("generate", "complete a prompt (no chat template)");
  auto m = std::make_shared<ModelOptions>();
  auto s = std::make_shared<SamplingOptions>();
  auto prompt = std::make_shared<std::string>();
  auto json = std::make_shared<bool>(false);
  auto no_bos = std::make_shared<bool>(false);
  m->add_to(c);
  s->add_to(c);
  c->add_option("--prompt", *prompt, "prompt text")->required();
  c->add_flag("--json", *json, "print one JSON object: prompt_ids, generated_ids, text, stats");
  c->add_flag("--no-bos", *no_bos, "do not prepend BOS");
  c->callback([=] {
    auto model = m->load();
    if (!model) return void(fail(model.status()));
    Session session(*model);
    GenerateParams g = s->params();
    g.add_bos = !*no_bos;
    PieceCallback print;
    if (!*json) print = [](std::string_view p) { std::cout << p << std::flush; return true; };
    g_active_session = &session;
    std::signal(SIGINT, on_sigint);
    auto r = session.complete(*prompt, g, print);
    g_active_session = nullptr;
    if (!r) return void(fail(r.status()));
    if (*json) {
      nlohmann::ordered_json j = {{"prompt_ids", r->prompt_ids}, {"generated_ids", r->generated_ids},
                                  {"text", r->text}, {"stats", stats_json(r->stats)}};
      std::cout << j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
    } else {
      std::cout << "\n";
      std::fprintf(stderr, "[%d prompt tokens, %d generated, %.1f tok/s decode, %s]\n", r->stats.prompt_tokens,
                   r->stats.generated_tokens, r->stats.decode_tok_s, r->stats.stop_reason.c_str());
    }
  });
}

void add_chat(CLI::App& app) {
  auto* c = app.add_subcommand("chat", "interactive multi-turn chat; /reset clears the history, Ctrl-C stops a reply");
  auto m = std::make_shared<ModelOptions>();
  auto s = std::make_shared<SamplingOptions>();
  auto system = std::make_shared<std::string>();
  m->add_to(c);
  s->add_to(c);
  c->add_option("--system", *system, "system prompt (default: the template's)");
  c->callback([=] {
    std::fprintf(stderr, "loading %s ...\n", m->path.c_str());
    auto model = m->load();
    if (!model) return void(fail(model.status()));
    const ModelInfo& info = (*model)->info();
    std::fprintf(stderr, "%s (%s, %s) on %s, context %d. Type /reset to start over, Ctrl-D to quit.\n",
                 info.name.c_str(), info.architecture.c_str(), info.dtype.c_str(),
                 (*model)->backend_name().c_str(), (*model)->load_params().context_length
                                                       ? (*model)->load_params().context_length
                                                       : std::min(info.max_context, 4096));
    Session session(*model);
    if (!system->empty()) session.set_system_prompt(*system);
    std::signal(SIGINT, on_sigint);
    std::string line;
    for (;;) {
      std::cout << "\n> " << std::flush;
      if (!std::getline(std::cin, line)) break;
      if (line.empty()) continue;
      if (line == "/reset") {
        session.reset();
        std::cout << "(history cleared)\n";
        continue;
      }
      g_active_session = &session;
      auto r = session.chat({{Role::kUser, line}}, s->params(),
                            [](std::string_view p) { std::cout << p << std::flush; return true; });
      g_active_session = nullptr;
      if (!r) {
        std::fprintf(stderr, "\n[error: %s]\n", r.status().message().c_str());
        continue;
      }
      std::fprintf(stderr, "\n[%d tokens, %.1f tok/s, first token after %.0f ms%s]\n", r->stats.generated_tokens,
                   r->stats.decode_tok_s, r->stats.ttft_ms,
                   r->stats.stop_reason == "cancelled" ? ", stopped" : "");
    }
  });
}

void add_perplexity(CLI::App& app) {
  auto* c = app.add_subcommand("perplexity", "perplexity of a text file, in windows of the context length");
  auto m = std::make_shared<ModelOptions>();
  auto text = std::make_shared<std::string>();
  auto json = std::make_shared<bool>(false);
  m->add_to(c);
  c->add_option("--text", *text, "UTF-8 text file")->required()->check(CLI::ExistingFile);
  c->add_flag("--json", *json, "print JSON");
  c->callback([=] {
    auto model = m->load();
    if (!model) return void(fail(model.status()));
    std::ifstream f(*text, std::ios::binary);
    std::stringstream ss;
    ss << f.rdbuf();
    const auto ids = (*model)->impl().tokenizer->encode(ss.str(), true);
    Session session(*model);
    auto ppl = session.perplexity(ids, m->context, [](int done, int total) {
      std::fprintf(stderr, "\r%d / %d tokens", done, total);
    });
    std::fprintf(stderr, "\n");
    if (!ppl) return void(fail(ppl.status()));
    if (*json)
      std::cout << nlohmann::json{{"perplexity", *ppl}, {"tokens", ids.size()}, {"ctx", session.context_length()}}
                       .dump()
                << "\n";
    else
      std::printf("perplexity %.4f over %zu tokens (windows of %d)\n", *ppl, ids.size(),
                  m->context > 0 ? m->context : session.context_length());
  });
}

void add_tokenize(CLI::App& app) {
  auto* c = app.add_subcommand("tokenize", "text to token ids");
  auto path = std::make_shared<std::string>();
  auto text = std::make_shared<std::string>();
  auto json = std::make_shared<bool>(false);
  auto no_bos = std::make_shared<bool>(false);
  c->add_option("MODEL", *path, "model directory, a SentencePiece .model file or a .gguf file")->required();
  c->add_option("--text", *text, "text to encode")->required();
  c->add_flag("--json", *json, "print {\"ids\": [...], \"pieces\": [...]}");
  c->add_flag("--no-bos", *no_bos, "do not prepend BOS");
  c->callback([=] {
    auto ends_with = [&](std::string_view suffix) {
      return path->size() > suffix.size() && path->compare(path->size() - suffix.size(), suffix.size(), suffix) == 0;
    };
    auto open = [&]() -> Result<std::unique_ptr<Tokenizer>> {
      if (ends_with(".model")) return Tokenizer::from_sentencepiece_file(*path);
      if (!ends_with(".gguf")) return Tokenizer::load(*path);
      auto gguf = GgufFile::open(*path);
      if (!gguf) return gguf.status();
      return Tokenizer::from_gguf(**gguf);
    };
    auto tok = open();
    if (!tok) return void(fail(tok.status()));
    const auto ids = (*tok)->encode(*text, !*no_bos, true);
    if (*json) {
      nlohmann::json pieces = nlohmann::json::array();
      for (int32_t id : ids) pieces.push_back((*tok)->piece(id));
      std::cout << nlohmann::json{{"ids", ids}, {"pieces", pieces}}.dump(-1, ' ', false,
                                                                      nlohmann::json::error_handler_t::replace)
                << "\n";
      return;
    }
    for (size_t i = 0; i < ids.size(); ++i) std::cout << (i ? " " : "") << ids[i];
    std::cout << "\n";
  });
}

void add_import_llama2c(CLI::App& app) {
  auto* c = app.add_subcommand("import-llama2c", "convert a llama2.c checkpoint into a model directory");
  auto in = std::make_shared<std::string>();
  auto out = std::make_shared<std::string>();
  auto tok = std::make_shared<std::string>();
  c->add_option("IN", *in, "llama2.c .bin (version 0)")->required()->check(CLI::ExistingFile);
  c->add_option("OUT_DIR", *out, "output model directory")->required();
  c->add_option("--tokenizer", *tok, "SentencePiece tokenizer.model to copy in")->check(CLI::ExistingFile);
  c->callback([=] {
    Status s = import_llama2c(*in, *out, *tok);
    if (!s) return void(fail(s));
    std::printf("wrote %s\n", out->c_str());
  });
}

void add_make_model(CLI::App& app) {
  auto* c = app.add_subcommand("make-model", "write a random-weight model (for tests, benchmarks, a first run)");
  auto out = std::make_shared<std::string>();
  auto shape = std::make_shared<std::string>("tiny");
  auto arch = std::make_shared<std::string>();
  auto dtype = std::make_shared<std::string>("float16");
  auto tok = std::make_shared<std::string>();
  auto seed = std::make_shared<uint64_t>(1);
  c->add_option("OUT_DIR", *out, "output model directory")->required();
  c->add_option("--shape", *shape,
                "tiny, llama-1b, internlm2-1.8b, internlm2-7b, internlm2-20b; with their own byte-level BPE "
                "tokenizer: qwen2.5-tiny, qwen2.5-0.5b, llama3-tiny, llama-3.2-1b");
  c->add_option("--arch", *arch, "override the architecture (LlamaForCausalLM, InternLM2ForCausalLM, ...)");
  c->add_option("--dtype", *dtype, "float32, float16, bfloat16");
  c->add_option("--tokenizer", *tok, "SentencePiece tokenizer.model to copy in (shapes without their own)")
      ->check(CLI::ExistingFile);
  c->add_option("--seed", *seed, "seed of the random weights")->capture_default_str();
  c->callback([=] {
    auto spec = random_model_shape(*shape);
    if (!spec) return void(fail(spec.status()));
    if (!arch->empty()) spec->architecture = *arch;
    spec->dtype = *dtype;
    spec->seed = *seed;
    spec->tokenizer_model = *tok;
    if (tok->empty() && spec->bpe_tokenizer.empty())
      return void(fail(Status(StatusCode::kInvalidArgument,
                              "shape '" + *shape + "' needs --tokenizer (a SentencePiece tokenizer.model)")));
    Status s = write_random_checkpoint(*spec, *out);
    if (!s) return void(fail(s));
    std::printf("wrote %s (random weights: for testing and measuring, not for answers)\n", out->c_str());
  });
}

void add_convert_gguf(CLI::App& app) {
  auto* c = app.add_subcommand("convert-gguf", "write a 16-bit model directory as one GGUF file (llama, qwen2, internlm2)");
  auto in = std::make_shared<std::string>();
  auto out = std::make_shared<std::string>();
  auto type = std::make_shared<std::string>("f16");
  c->add_option("MODEL_DIR", *in, "16-bit model directory with tokenizer.model or tokenizer.json")->required();
  c->add_option("OUT", *out, "output .gguf file")->required();
  c->add_option("--type", *type, "type of the attention and MLP linears (embeddings and output head stay f16)")
      ->check(CLI::IsMember({"f32", "f16", "q8_0", "q4_0", "q4_1", "q4_k", "q5_k", "q6_k"}));
  c->callback([=] {
    const GgmlType t = *type == "f32"    ? GgmlType::kF32
                       : *type == "f16"  ? GgmlType::kF16
                       : *type == "q8_0" ? GgmlType::kQ8_0
                       : *type == "q4_0" ? GgmlType::kQ4_0
                       : *type == "q4_1" ? GgmlType::kQ4_1
                       : *type == "q4_k" ? GgmlType::kQ4_K
                       : *type == "q5_k" ? GgmlType::kQ5_K
                                         : GgmlType::kQ6_K;
    Status s = convert_to_gguf(*in, *out, t);
    if (!s) return void(fail(s));
    std::printf("wrote %s\n", out->c_str());
  });
}

}  // namespace jetchat::cli
