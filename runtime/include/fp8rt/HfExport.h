//===- HfExport.h - fp8c checkpoints as Hugging Face models ------*- C++ -*-===//
//
// `fp8-run [PROGRAM] --export-hf CKPT -o DIR`: the parameters of an fp8c
// checkpoint written as a Hugging Face model directory (config.json and
// model.safetensors) that transformers.AutoModelForCausalLM.from_pretrained
// loads: GPT2LMHeadModel for family gpt, LlamaForCausalLM for llama. The
// reverse direction is --init-from (Trainer.h), which accepts Hugging Face
// files. docs/hf-interop.md gives the mapping.
//
//===----------------------------------------------------------------------===//

#ifndef FP8RT_HFEXPORT_H
#define FP8RT_HFEXPORT_H

#include "fp8rt/Program.h"
#include "fp8rt/Status.h"

#include <ostream>
#include <string>

namespace fp8rt {

/// Writes `outDir`/config.json and `outDir`/model.safetensors (creating the
/// directory) from the checkpoint at `checkpointPath`: weights only, F32, no
/// optimizer, FP8 or trainer tensors, each file written atomically. The model
/// description is `program`'s config when a program is given, else the copy
/// the checkpoint keeps in its metadata (`config`, written since this export
/// exists). Prints one line naming what was written to `out`.
Status exportHuggingFace(const std::string &checkpointPath, const Program *program,
                         const std::string &outDir, std::ostream &out);

} // namespace fp8rt

#endif // FP8RT_HFEXPORT_H
