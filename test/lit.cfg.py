# -*- Python -*- lit configuration of fp8c's FileCheck tests.

import os

import lit.formats
from lit.llvm import llvm_config

config.name = "FP8C"
config.test_format = lit.formats.ShTest(not llvm_config.use_lit_shell)
config.suffixes = [".mlir", ".yaml", ".test"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.fp8c_obj_root, "test")
config.excludes = ["CMakeLists.txt", "lit.cfg.py", "lit.site.cfg.py", "unit", "Inputs",
                   "check-docs.cmake"]

llvm_config.use_default_substitutions()
config.substitutions.append(("%examples", os.path.join(config.fp8c_src_root, "examples")))

llvm_config.with_environment("PATH", config.llvm_tools_dir, append_path=True)
llvm_config.add_tool_substitutions(["fp8-opt", "fp8c", "fp8-run"], [config.fp8c_tools_dir])

# Data-parallel tests (test/e2e/ddp.test) run fp8-run under Open MPI's mpirun
# (scripts/setup.sh installs openmpi-bin); without it they are UNSUPPORTED.
import shutil

if shutil.which("mpirun"):
    config.available_features.add("mpirun")
