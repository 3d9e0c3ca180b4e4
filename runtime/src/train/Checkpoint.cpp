//===- Checkpoint.cpp - Trainer checkpoints -------------------------------===//
//
// Layout and refusal rules: Checkpoint.h and docs/runtime.md ("Checkpoints").
//
//===----------------------------------------------------------------------===//

#include "train/Checkpoint.h"

#include "train/HfImport.h"
#include "train/HfModel.h"

#include "fp8rt/comm/Shard.h"

#include <algorithm>
#include <cstring>
#include <fstream>
#include <map>

namespace fp8rt {
namespace trainer {

namespace {

constexpr const char *kStepName = "trainer.step";
constexpr const char *kRngName = "trainer.data_rng";

bool isCheckpointed(BufferRole role) {
  return role == BufferRole::Param || role == BufferRole::Optimizer || role == BufferRole::FP8State;
}

/// A checkpoint tensor's (unsigned) shape as Program.h's shapeString prints.
std::string shapeText(const std::vector<uint64_t> &shape) {
  return shapeString(std::vector<int64_t>(shape.begin(), shape.end()));
}

std::vector<uint64_t> shapeOf(const TensorType &type) {
  return std::vector<uint64_t>(type.shape.begin(), type.shape.end());
}

/// What a checkpoint must contain: name -> (safetensors dtype, shape), and
/// the buffer it is loaded into (-1 for the trainer state).
struct Expected {
  std::string dtype;
  std::vector<uint64_t> shape;
  int64_t buffer = -1;
};

bool ignoredByInitFrom(const std::string &name) {
  for (const char *prefix : {"optimizer.", "fp8.", "grad_accum.", "trainer."})
    if (name.rfind(prefix, 0) == 0)
      return true;
  return false;
}

/// "a [2, 3], b [4] and 3 more"
std::string listNames(const std::vector<std::string> &items) {
  constexpr size_t kMaxListed = 12;
  std::string s;
  for (size_t i = 0; i < items.size() && i < kMaxListed; ++i) {
    if (i)
      s += ", ";
    s += items[i];
  }
  if (items.size() > kMaxListed)
    s += " and " + std::to_string(items.size() - kMaxListed) + " more";
  return s;
}

/// Why a file that does not read as safetensors is not a checkpoint, when its
/// first bytes say what it is instead (a program, text, token data), or ""
/// (a missing file, a damaged checkpoint: the reader's message says it).
std::string notACheckpoint(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return "";
  char head[512] = {};
  in.read(head, sizeof head);
  const std::string text(head, size_t(in.gcount()));
  if (text.size() < 8)
    return "";
  if (text.size() > 8 && text[8] == '{')
    return ""; // a safetensors header: a damaged checkpoint
  const size_t start = text.find_first_not_of(" \t\r\n");
  if (start != std::string::npos && text[start] == '{' &&
      text.find("\"fp8c-program\"") != std::string::npos)
    return "it is a program (fp8c's output), not a checkpoint; checkpoints are what "
           "fp8-run --save writes";
  const bool isText = std::all_of(text.begin(), text.end(), [](char c) {
    const unsigned char u = static_cast<unsigned char>(c);
    return u >= 0x20 || u == '\t' || u == '\n' || u == '\r';
  });
  if (isText)
    return "it is text (a model description?), not a checkpoint; checkpoints are what "
           "fp8-run --save writes";
  return "it is not a safetensors file (a token file? those are for --data); checkpoints "
         "are what fp8-run --save writes";
}

/// A gpt weight in Hugging Face's Conv1D layout, from a file without HF's
/// `format = pt` metadata (safetensors' save_file of a GPT-2 state dict).
std::string conv1DHint(const std::string &name, const std::vector<uint64_t> &got,
                       const std::vector<uint64_t> &want) {
  if (!isConv1DWeight(name) || got.size() != 2 || want.size() != 2 || got[0] != want[1] ||
      got[1] != want[0])
    return "";
  return " (transposed: Hugging Face's Conv1D layout; a file with metadata format = pt is "
         "converted, docs/hf-interop.md)";
}

/// The value of a metadata key, or "".
std::string metadataValue(const Metadata &metadata, const std::string &key) {
  for (const auto &[k, v] : metadata)
    if (k == key)
      return v;
  return "";
}

/// This rank's shard of a full checkpoint tensor into a sharded buffer: a
/// checkpoint of any number of ranks (or of one process) resumes on this one.
Status writeShard(const Program &program, Backend &backend, uint32_t index,
                  const TensorRecord &full) {
  const Buffer &b = program.buffers[index];
  const size_t elementBytes = dtypeSize(b.type.dtype);
  std::vector<uint8_t> shard(b.bytes());
  comm::copyShard(full.bytes.data(), full.bytes.size() / elementBytes, elementBytes,
                  comm::processCommunicator().rank(), int(program.info.worldSize), shard.data());
  return backend.write(index, shard.data(), shard.size());
}

} // namespace

StatusOr<TensorRecord> readBufferRecord(const Program &program, Backend &backend, uint32_t index) {
  const Buffer &b = program.buffers[index];
  const char *dtype = safetensorsDTypeName(b.type.dtype);
  if (!dtype)
    return unimplementedError("buffer '" + b.name + "' is " + b.type.str() +
                              ": safetensors has no " + dtypeName(b.type.dtype) + " dtype");
  TensorRecord r;
  r.name = b.name;
  r.dtype = dtype;
  r.shape = shapeOf(b.type);
  r.bytes.resize(b.bytes());
  FP8RT_RETURN_IF_ERROR(backend.read(index, r.bytes.data(), r.bytes.size()));
  return r;
}

/// zero1/fsdp: the full tensor of a sharded buffer, gathered from every rank
/// (a collective: every rank calls it for the same buffers in the same order),
/// padding dropped, under the buffer's name and its full shape.
StatusOr<TensorRecord> gatherShardedRecord(const Program &program, Backend &backend,
                                           uint32_t index) {
  FP8RT_ASSIGN_OR_RETURN(TensorRecord shard, readBufferRecord(program, backend, index));
  const Buffer &b = program.buffers[index];
  const TensorType full{b.type.dtype, b.shardOf};
  TensorRecord r{shard.name, shard.dtype, shapeOf(full), std::vector<uint8_t>(full.bytes())};
  FP8RT_RETURN_IF_ERROR(comm::allGatherShards(comm::processCommunicator(), shard.bytes.data(),
                                              size_t(full.numElements()), dtypeSize(b.type.dtype),
                                              r.bytes.data()));
  return r;
}

StatusOr<std::vector<TensorRecord>> checkpointRecords(const Program &program, Backend &backend,
                                                      const TrainerState &state) {
  std::vector<TensorRecord> records;
  for (uint32_t i = 0; i < program.buffers.size(); ++i) {
    if (!isCheckpointed(program.buffers[i].role))
      continue;
    FP8RT_ASSIGN_OR_RETURN(TensorRecord r, program.buffers[i].shardOf.empty()
                                               ? readBufferRecord(program, backend, i)
                                               : gatherShardedRecord(program, backend, i));
    records.push_back(std::move(r));
  }
  TensorRecord step{kStepName, "I64", {}, std::vector<uint8_t>(8)};
  std::memcpy(step.bytes.data(), &state.step, 8);
  records.push_back(std::move(step));
  TensorRecord rng{kRngName, "I64", {4}, std::vector<uint8_t>(32)};
  std::memcpy(rng.bytes.data(), state.dataRng.data(), 32);
  records.push_back(std::move(rng));
  return records;
}

Status saveCheckpoint(const std::string &path, const Program &program, Backend &backend,
                      const TrainerState &state, const Metadata &metadata) {
  FP8RT_ASSIGN_OR_RETURN(std::vector<TensorRecord> records,
                         checkpointRecords(program, backend, state));
  return writeTensorFile(path, records, metadata);
}

Status loadCheckpoint(const std::string &path, const Program &program, Backend &backend,
                      bool paramsOnly, TrainerState *state) {
  std::map<std::string, Expected> expected;
  for (uint32_t i = 0; i < program.buffers.size(); ++i) {
    const Buffer &b = program.buffers[i];
    if (paramsOnly ? b.role != BufferRole::Param : !isCheckpointed(b.role))
      continue;
    const char *dtype = safetensorsDTypeName(b.type.dtype);
    // A shard (zero1, fsdp) loads from the full tensor: checkpoints hold full tensors.
    const TensorType full{b.type.dtype, b.shardOf.empty() ? b.type.shape : b.shardOf};
    expected[b.name] = Expected{dtype ? dtype : dtypeName(b.type.dtype), shapeOf(full), int64_t(i)};
  }
  if (!paramsOnly) {
    expected[kStepName] = Expected{"I64", {}, -1};
    expected[kRngName] = Expected{"I64", {4}, -1};
  }

  // --init-from also takes a Hugging Face model, converted to fp8c's layout (HfImport.h).
  StatusOr<TensorFileContents> read = readCheckpointFiles(path);
  if (!read.ok()) {
    if (std::string why = notACheckpoint(path); !why.empty())
      return invalidArgumentError(std::string(paramsOnly ? "--init-from=" : "--resume=") + path +
                                  ": " + why);
    return read.status();
  }
  TensorFileContents &contents = *read;
  bool huggingFace = isHuggingFaceModel(contents);
  if (huggingFace && !paramsOnly)
    return invalidArgumentError(path + " is a Hugging Face model, not a checkpoint of fp8-run: "
                                       "--resume needs the optimizer and trainer state; "
                                       "--init-from takes its weights");
  if (huggingFace)
    FP8RT_RETURN_IF_ERROR(convertFromHuggingFace(program, contents, path));

  std::vector<std::string> mismatched, unexpected, missing;
  std::map<std::string, const TensorRecord *> found;
  for (const TensorRecord &r : contents.tensors) {
    auto it = expected.find(r.name);
    if (it == expected.end()) {
      if (!(paramsOnly && ignoredByInitFrom(r.name)))
        unexpected.push_back(r.name + " " + shapeText(r.shape));
      continue;
    }
    const Expected &e = it->second;
    if (r.dtype != e.dtype)
      mismatched.push_back(r.name + " is " + r.dtype + " " + shapeText(r.shape) +
                           " in the checkpoint, " + e.dtype + " " + shapeText(e.shape) +
                           " in the program");
    else if (r.shape != e.shape)
      mismatched.push_back(r.name + " has shape " + shapeText(r.shape) + " in the checkpoint, " +
                           shapeText(e.shape) + " in the program" +
                           conv1DHint(r.name, r.shape, e.shape));
    found[r.name] = &r;
  }
  for (const auto &[name, e] : expected)
    if (!found.count(name))
      missing.push_back(name + " " + shapeText(e.shape));

  if (!mismatched.empty() || !missing.empty() || !unexpected.empty()) {
    std::string m = (huggingFace ? "Hugging Face model " : "checkpoint ") + path +
                    " does not match this program";
    if (huggingFace)
      m += " (names and shapes after conversion to fp8c's layout)";
    if (paramsOnly)
      m += " (parameters)";
    m += ":";
    std::string sep = " ";
    // What the user got wrong first (another model, or another size of it),
    // then the tensors.
    const std::string family = metadataValue(contents.metadata, "family");
    if (!family.empty() && !program.info.family.empty() && family != program.info.family) {
      m += " it is of a '" + family + "' model, this program is '" + program.info.family + "'";
      sep = "; ";
    } else if (!mismatched.empty()) {
      m += " it is of a model of another shape (" + std::to_string(mismatched.size()) + " tensor" +
           (mismatched.size() == 1 ? " differs" : "s differ") + ")";
      sep = "; ";
    }
    if (!mismatched.empty()) {
      m += sep + listNames(mismatched);
      sep = "; ";
    }
    if (!missing.empty()) {
      m += sep + "missing: " + listNames(missing);
      sep = "; ";
    }
    if (!unexpected.empty())
      m += sep + "unexpected: " + listNames(unexpected);
    return invalidArgumentError(m);
  }

  // Everything matches: only now touch the backend.
  for (const auto &[name, e] : expected) {
    const TensorRecord &r = *found.at(name);
    if (e.buffer >= 0 && !program.buffers[size_t(e.buffer)].shardOf.empty()) {
      FP8RT_RETURN_IF_ERROR(writeShard(program, backend, uint32_t(e.buffer), r));
    } else if (e.buffer >= 0) {
      FP8RT_RETURN_IF_ERROR(backend.write(uint32_t(e.buffer), r.bytes.data(), r.bytes.size()));
    } else if (state && name == kStepName) {
      std::memcpy(&state->step, r.bytes.data(), 8);
    } else if (state && name == kRngName) {
      std::memcpy(state->dataRng.data(), r.bytes.data(), 32);
    }
  }
  if (state && state->step < 0)
    return invalidArgumentError("checkpoint " + path + ": trainer.step is " +
                                std::to_string(state->step) +
                                ", expected a non-negative step count");
  return Status::success();
}

} // namespace trainer
} // namespace fp8rt
