#include "checkpoint.h"

#include <algorithm>
#include <filesystem>
#include <set>

#include "json_util.h"

namespace fs = std::filesystem;

namespace jetchat {

bool to_dense_dtype(StDType st, DType* out) {
  switch (st) {
    case StDType::kF32: *out = DType::kF32; return true;
    case StDType::kF16: *out = DType::kF16; return true;
    case StDType::kBF16: *out = DType::kBF16; return true;
    default: return false;
  }
}

Result<std::unique_ptr<Checkpoint>> Checkpoint::open(const std::string& model_dir) {
  std::error_code ec;
  if (!fs::is_directory(model_dir, ec))
    return Status(StatusCode::kNotFound, model_dir + ": not a model directory");
  std::vector<std::string> shards;
  const std::string index_path = model_dir + "/model.safetensors.index.json";
  if (fs::exists(index_path)) {
    auto index = read_json_file(index_path);
    if (!index) return index.status();
    if (!index->contains("weight_map") || !(*index)["weight_map"].is_object())
      return Status(StatusCode::kInvalidFormat, index_path + ": no 'weight_map' object");
    std::set<std::string> files;
    for (auto& [name, file] : (*index)["weight_map"].items()) {
      if (!file.is_string() || file.get<std::string>().find('/') != std::string::npos)
        return Status(StatusCode::kInvalidFormat, index_path + ": bad file for tensor '" + name + "'");
      files.insert(file.get<std::string>());
    }
    shards.assign(files.begin(), files.end());
  } else {
    for (const auto& e : fs::directory_iterator(model_dir, ec))
      if (e.path().extension() == ".safetensors") shards.push_back(e.path().filename().string());
    std::sort(shards.begin(), shards.end());
  }
  if (shards.empty()) {
    for (const char* pickle : {"pytorch_model.bin", "pytorch_model.bin.index.json", "consolidated.00.pth"})
      if (fs::exists(model_dir + "/" + pickle))
        return Status(StatusCode::kUnsupported,
                      model_dir + "/" + pickle +
                          " is a PyTorch pickle checkpoint, which JetChat never loads (unpickling can run code). "
                          "Convert it once with: python3 -c \"import transformers as t; "
                          "t.AutoModelForCausalLM.from_pretrained('IN', trust_remote_code=True)"
                          ".save_pretrained('OUT', safe_serialization=True)\" and copy the tokenizer files");
    return Status(StatusCode::kNotFound, model_dir + ": no *.safetensors weights found");
  }
  auto ck = std::unique_ptr<Checkpoint>(new Checkpoint());
  ck->dir_ = model_dir;
  for (const auto& s : shards) {
    auto f = SafetensorsFile::open(model_dir + "/" + s);
    if (!f) return f.status();
    const size_t file_index = ck->files_.size();
    ck->files_.push_back(std::move(f.value()));
    for (const auto& t : ck->files_.back()->tensors()) {
      if (ck->tensors_.count(t.name))
        return Status(StatusCode::kInvalidFormat, "tensor '" + t.name + "' appears in both " +
                                                      ck->file_of(t.name) + " and " + s);
      ck->tensors_[t.name] = {&t, file_index};
    }
  }
  return ck;
}

const StTensor* Checkpoint::find(const std::string& name) const {
  auto it = tensors_.find(name);
  return it == tensors_.end() ? nullptr : it->second.first;
}

const std::string& Checkpoint::file_of(const std::string& name) const {
  static const std::string kNone = "(no file)";
  auto it = tensors_.find(name);
  return it == tensors_.end() ? kNone : files_[it->second.second]->path();
}

int64_t Checkpoint::total_bytes() const {
  int64_t n = 0;
  for (const auto& [name, t] : tensors_) n += int64_t(t.first->nbytes);
  return n;
}

std::vector<std::string> Checkpoint::tensor_names() const {
  std::vector<std::string> v;
  for (const auto& [name, t] : tensors_) v.push_back(name);
  return v;
}

static std::string shape_str(const std::vector<int64_t>& s) {
  std::string r = "[";
  for (size_t i = 0; i < s.size(); ++i) r += (i ? ", " : "") + std::to_string(s[i]);
  return r + "]";
}

Result<HostMatrix> Checkpoint::matrix(const std::string& name, int64_t rows, int64_t cols) const {
  const StTensor* t = find(name);
  if (!t) return Status(StatusCode::kNotFound, dir_ + ": tensor '" + name + "' is missing from the checkpoint");
  const std::vector<int64_t> want = rows ? std::vector<int64_t>{rows, cols} : std::vector<int64_t>{cols};
  if (t->shape != want)
    return Status(StatusCode::kInvalidFormat, file_of(name) + ": tensor '" + name + "' has shape " +
                                                  shape_str(t->shape) + " but config.json implies " +
                                                  shape_str(want));
  HostMatrix m;
  if (!to_dense_dtype(t->dtype, &m.dtype))
    return Status(StatusCode::kUnsupported, file_of(name) + ": tensor '" + name + "' has dtype " +
                                                st_dtype_name(t->dtype) + "; weights must be F32, F16 or BF16");
  m.rows = rows ? rows : 1;
  m.cols = cols;
  m.data = t->data;
  return m;
}

}  // namespace jetchat
