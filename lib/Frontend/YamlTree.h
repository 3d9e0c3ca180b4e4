//===- YamlTree.h - a located, owned copy of a YAML document ----*- C++ -*-===//
//
// LLVM's YAML nodes are streamed and can be visited only once, while validation
// needs to look at keys in an order of its own (the family before the keys it
// allows). The front end first copies the document into this small tree, which
// keeps every location so that each error points at the key or value at fault.
//
//===----------------------------------------------------------------------===//

#ifndef FP8C_LIB_FRONTEND_YAMLTREE_H
#define FP8C_LIB_FRONTEND_YAMLTREE_H

#include "llvm/ADT/StringRef.h"
#include "llvm/ADT/Twine.h"
#include "llvm/Support/SMLoc.h"

#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace llvm {
class SourceMgr;
namespace yaml {
class Node;
} // namespace yaml
} // namespace llvm

namespace fp8c::frontend {

using llvm::SMLoc;
using llvm::StringRef;
using llvm::Twine;

struct YNode {
  enum class Kind { Null, Scalar, Mapping, Sequence };
  struct Entry {
    std::string key;
    SMLoc keyLoc;
    std::unique_ptr<YNode> value;
  };

  Kind kind = Kind::Null;
  SMLoc loc;
  std::string value;
  /// Quoted or block scalars are strings, never numbers or booleans.
  bool quoted = false;
  std::vector<Entry> entries;
  std::vector<std::unique_ptr<YNode>> items;

  const Entry *find(StringRef key) const {
    for (const Entry &e : entries)
      if (e.key == key)
        return &e;
    return nullptr;
  }

  /// What the user wrote, for "got ..." in messages.
  std::string describe() const {
    switch (kind) {
    case Kind::Null:
      return "nothing";
    case Kind::Mapping:
      return "a mapping";
    case Kind::Sequence:
      return "a sequence";
    case Kind::Scalar:
      return (quoted ? "the string \"" : "'") + value + (quoted ? "\"" : "'");
    }
    return "?";
  }
};

/// `path.key`, or `key` at the top.
std::string childPath(StringRef path, StringRef key);
/// `path[index]`.
std::string itemPath(StringRef path, size_t index);

/// Formats a number the way a user would write it in YAML.
std::string formatNumber(double v);

/// Shared error sink: every message is `<key path>: <text>` at a location.
/// Validation visits keys in its own order; errors are printed in file order.
class Diagnostics {
public:
  explicit Diagnostics(llvm::SourceMgr &sourceMgr) : sourceMgr(sourceMgr) {}
  ~Diagnostics() { flush(); }

  void error(SMLoc loc, StringRef path, const Twine &message) {
    pending.push_back({loc, path.empty() ? message.str() : (path + ": " + message).str()});
  }

  void flush();

  unsigned getNumErrors() const { return numFlushed + pending.size(); }

  std::pair<unsigned, unsigned> lineAndColumn(SMLoc loc) const;

  /// For files a description refers to (hf_config), added as buffers of their own.
  llvm::SourceMgr &getSourceMgr() const { return sourceMgr; }

private:
  struct Pending {
    SMLoc loc;
    std::string message;
  };
  llvm::SourceMgr &sourceMgr;
  std::vector<Pending> pending;
  unsigned numFlushed = 0;
};

/// Copies the streamed document `root` into a YNode tree. Returns null after
/// reporting the problem (aliases, non-scalar keys, duplicate keys, nesting
/// deeper than 16 levels); returns null without a report on a syntax error,
/// which the YAML scanner has reported. `start` locates a root without a
/// position of its own.
std::unique_ptr<YNode> copyYamlTree(llvm::yaml::Node *root, Diagnostics &diags, SMLoc start);

} // namespace fp8c::frontend

#endif // FP8C_LIB_FRONTEND_YAMLTREE_H
