//===- Describe.cpp - fp8-run --describe ----------------------------------===//

#include "fp8rt/Trainer.h"

#include <cstdio>
#include <map>

namespace fp8rt {

namespace {

std::string bytesText(uint64_t bytes) {
  char buf[64];
  if (bytes >= (uint64_t(1) << 30))
    std::snprintf(buf, sizeof buf, "%.2f GiB", double(bytes) / double(1 << 30));
  else if (bytes >= (uint64_t(1) << 20))
    std::snprintf(buf, sizeof buf, "%.2f MiB", double(bytes) / double(1 << 20));
  else if (bytes >= 1024)
    std::snprintf(buf, sizeof buf, "%.1f KiB", double(bytes) / 1024.0);
  else
    std::snprintf(buf, sizeof buf, "%llu B", (unsigned long long)bytes);
  return buf;
}

const char *scaleModeName(GemmScaleMode m) {
  switch (m) {
  case GemmScaleMode::None:
    return "none";
  case GemmScaleMode::Tensorwise:
    return "tensorwise";
  case GemmScaleMode::Rowwise:
    return "rowwise";
  case GemmScaleMode::Block1x128:
    return "block_1x128";
  case GemmScaleMode::Block128x128:
    return "block_128x128";
  }
  return "?";
}

} // namespace

void describeProgram(const Program &program, std::ostream &out) {
  const ProgramInfo &info = program.info;
  out << "program: format version " << program.version << ", producer "
      << (program.producer.empty() ? "?" : program.producer) << "\n";
  out << "info: family " << info.family << ", batch_size " << info.batchSize << ", seq_len "
      << info.seqLen << ", vocab_size " << info.vocabSize << ", grad_accum_steps "
      << info.gradAccumSteps << ", total_steps " << info.totalSteps << ", init_seed "
      << info.initSeed << ", fp8 " << info.fp8Recipe << " (" << info.fp8Format << ")"
      << (info.worldSize > 1 ? ", world_size " + std::to_string(info.worldSize) : "") << "\n";
  out << "config: " << (program.configJson.empty() ? "{}" : program.configJson) << "\n";
  out << "arena: " << program.arenaBytes << " bytes (" << bytesText(program.arenaBytes) << ")\n";

  out << "buffers: " << program.buffers.size() << "\n";
  constexpr BufferRole kRoles[] = {
      BufferRole::Param,    BufferRole::Optimizer, BufferRole::FP8State, BufferRole::GradAccum,
      BufferRole::Constant, BufferRole::Input,     BufferRole::Output,   BufferRole::Metric,
      BufferRole::Grad,     BufferRole::Scratch};
  for (BufferRole role : kRoles) {
    size_t count = 0, shards = 0;
    uint64_t bytes = 0;
    int64_t elements = 0;
    for (const Buffer &b : program.buffers)
      if (b.role == role) {
        ++count;
        shards += !b.shardOf.empty();
        bytes += b.bytes();
        elements += b.type.numElements();
      }
    if (!count)
      continue;
    char line[160];
    std::snprintf(line, sizeof line, "  %-10s %5zu buffers %14llu bytes (%s)", roleName(role),
                  count, (unsigned long long)bytes, bytesText(bytes).c_str());
    out << line;
    if (role == BufferRole::Param)
      out << ", " << elements << " parameters";
    if (role == BufferRole::Scratch)
      out << " (views may share bytes)";
    if (shards)
      out << ", " << shards << " of them this rank's shards (of " << program.info.worldSize << ")";
    out << "\n";
    // Parameters and host-visible buffers by name; scratch is too many.
    if (role == BufferRole::Param || role == BufferRole::Input || role == BufferRole::Output)
      for (const Buffer &b : program.buffers)
        if (b.role == role)
          out << "    " << b.name << " " << b.type.str() << "\n";
  }

  out << "functions:\n";
  for (const Function &f : program.functions) {
    size_t kernels = 0, gemms = 0, copies = 0, allReduces = 0, ops = 0;
    size_t reduceScatters = 0, allGathers = 0, shards = 0;
    for (const Instruction &inst : f.instructions) {
      switch (inst.kind) {
      case Instruction::Kind::Kernel:
        ++kernels;
        ops += inst.kernel.ops.size();
        break;
      case Instruction::Kind::Gemm:
        ++gemms;
        break;
      case Instruction::Kind::Copy:
        ++copies;
        break;
      case Instruction::Kind::AllReduce:
        ++allReduces;
        break;
      case Instruction::Kind::ReduceScatter:
        ++reduceScatters;
        break;
      case Instruction::Kind::AllGather:
        ++allGathers;
        break;
      case Instruction::Kind::Shard:
        ++shards;
        break;
      }
    }
    out << "  " << f.name << ": " << f.instructions.size() << " instructions (" << kernels
        << " kernels with " << ops << " ops, " << gemms << " GEMMs, " << copies << " copies"
        << (allReduces ? ", " + std::to_string(allReduces) + " all-reduces" : "")
        << (reduceScatters ? ", " + std::to_string(reduceScatters) + " reduce-scatters" : "")
        << (allGathers ? ", " + std::to_string(allGathers) + " all-gathers" : "")
        << (shards ? ", " + std::to_string(shards) + " shards" : "") << "); inputs";
    for (uint32_t i : f.inputs)
      out << " " << program.buffers[i].name;
    out << "; outputs";
    for (uint32_t i : f.outputs)
      out << " " << program.buffers[i].name;
    out << "\n";
  }

  // A GEMM whose operands carry scales reads FP8 codes.
  std::map<std::string, const Gemm *> fp8;
  for (const Function &f : program.functions)
    for (const Instruction &inst : f.instructions)
      if (inst.kind == Instruction::Kind::Gemm &&
          (inst.gemm.aScale != Gemm::kNone || inst.gemm.bScale != Gemm::kNone))
        fp8.emplace(f.name + ": " + inst.gemm.name, &inst.gemm);
  out << "FP8 GEMMs: " << fp8.size() << "\n";
  for (const auto &[name, g] : fp8) {
    out << "  " << name << "  m=" << g->m << " n=" << g->n << " k=" << g->k << "  "
        << dtypeName(program.buffers[g->a].type.dtype) << " x "
        << dtypeName(program.buffers[g->b].type.dtype) << " -> "
        << dtypeName(program.buffers[g->d].type.dtype) << "  scales "
        << scaleModeName(g->aScaleMode) << "/" << scaleModeName(g->bScaleMode) << "\n";
  }
}

} // namespace fp8rt
