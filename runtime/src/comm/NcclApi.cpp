//===- NcclApi.cpp - NCCL's functions, loaded when first needed -----------===//

#include "NcclApi.h"

#include <dlfcn.h>

#include <mutex>
#include <string>
#include <type_traits>

namespace fp8rt::comm {

namespace {

/// dlopen and dlsym of every function; the message when one fails.
std::string loadInto(NcclApi &api) {
  void *library = nullptr;
  std::string tried;
  for (const char *name : {"libnccl.so.2", "libnccl.so"}) {
    library = dlopen(name, RTLD_NOW | RTLD_LOCAL);
    if (library)
      break;
    const char *why = dlerror();
    tried += std::string(tried.empty() ? "" : "; ") + (why ? why : name);
  }
  if (!library)
    return "cannot load NCCL (" + tried +
           "): the CUDA backend's collectives need it; install NCCL (the CUDA toolkit's, or "
           "Debian's libnccl2) or add the directory of libnccl.so.2 to LD_LIBRARY_PATH";
  std::string missing;
  auto bind = [&](auto &function, const char *symbol) {
    function =
        reinterpret_cast<std::remove_reference_t<decltype(function)>>(dlsym(library, symbol));
    if (!function)
      missing += std::string(missing.empty() ? "" : ", ") + symbol;
  };
  bind(api.ncclGetVersion, "ncclGetVersion");
  bind(api.ncclGetUniqueId, "ncclGetUniqueId");
  bind(api.ncclCommInitRank, "ncclCommInitRank");
  bind(api.ncclCommDestroy, "ncclCommDestroy");
  bind(api.ncclCommAbort, "ncclCommAbort");
  bind(api.ncclCommGetAsyncError, "ncclCommGetAsyncError");
  bind(api.ncclGetErrorString, "ncclGetErrorString");
  bind(api.ncclGetLastError, "ncclGetLastError");
  bind(api.ncclAllReduce, "ncclAllReduce");
  bind(api.ncclReduceScatter, "ncclReduceScatter");
  bind(api.ncclAllGather, "ncclAllGather");
  if (!missing.empty())
    return "the loaded NCCL lacks " + missing + " (NCCL 2.10 or later is needed, for ncclAvg)";
  return "";
}

} // namespace

StatusOr<const NcclApi *> loadNccl() {
  static NcclApi api;
  static std::string error;
  static std::once_flag once;
  std::call_once(once, [] { error = loadInto(api); });
  if (!error.empty())
    return unavailableError(error);
  return &api;
}

} // namespace fp8rt::comm
