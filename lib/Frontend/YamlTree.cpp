//===- YamlTree.cpp - a located, owned copy of a YAML document ------------===//

#include "YamlTree.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/SmallString.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/YAMLParser.h"
#include "llvm/Support/raw_ostream.h"

using namespace fp8c::frontend;

std::string fp8c::frontend::childPath(StringRef path, StringRef key) {
  return path.empty() ? key.str() : (path + "." + key).str();
}

std::string fp8c::frontend::itemPath(StringRef path, size_t index) {
  return (path + "[" + Twine(index) + "]").str();
}

/// Formats a number the way a user would write it in YAML.
std::string fp8c::frontend::formatNumber(double v) {
  std::string s;
  llvm::raw_string_ostream os(s);
  os << llvm::format("%g", v);
  return s;
}

void Diagnostics::flush() {
  llvm::stable_sort(pending, [](const Pending &a, const Pending &b) {
    return a.loc.getPointer() < b.loc.getPointer();
  });
  for (const Pending &p : pending)
    sourceMgr.PrintMessage(p.loc, llvm::SourceMgr::DK_Error, p.message);
  numFlushed += pending.size();
  pending.clear();
}

std::pair<unsigned, unsigned> Diagnostics::lineAndColumn(SMLoc loc) const {
  return sourceMgr.getLineAndColumn(loc);
}

namespace {

/// Copies a streamed YAML node into a YNode. Depth is bounded so that
/// pathological nesting cannot exhaust the stack.
class TreeBuilder {
public:
  explicit TreeBuilder(Diagnostics &diags) : diags(diags) {}

  /// `keyLoc` locates nodes that have no position of their own (aliases, nulls).
  std::unique_ptr<YNode> build(llvm::yaml::Node *node, StringRef path, unsigned depth,
                               SMLoc keyLoc) {
    auto result = std::make_unique<YNode>();
    result->loc = node->getSourceRange().Start;
    if (depth > maxDepth) {
      diags.error(result->loc, path, "nested more than " + Twine(maxDepth) + " levels deep");
      return nullptr;
    }
    if (auto *scalar = llvm::dyn_cast<llvm::yaml::ScalarNode>(node)) {
      llvm::SmallString<64> storage;
      StringRef raw = scalar->getRawValue();
      result->quoted = raw.starts_with("\"") || raw.starts_with("'");
      result->value = scalar->getValue(storage).str();
      if (!result->quoted && llvm::is_contained({"~", "null", "Null", "NULL"}, result->value))
        return result; // kind stays Null
      result->kind = YNode::Kind::Scalar;
      return result;
    }
    if (auto *block = llvm::dyn_cast<llvm::yaml::BlockScalarNode>(node)) {
      result->kind = YNode::Kind::Scalar;
      result->quoted = true;
      result->value = block->getValue().str();
      return result;
    }
    if (llvm::isa<llvm::yaml::NullNode>(node)) {
      result->loc = keyLoc;
      return result;
    }
    if (llvm::isa<llvm::yaml::AliasNode>(node)) {
      diags.error(keyLoc, path, "YAML aliases ('*name') are not supported; write the value");
      return nullptr;
    }
    if (auto *sequence = llvm::dyn_cast<llvm::yaml::SequenceNode>(node)) {
      result->kind = YNode::Kind::Sequence;
      for (llvm::yaml::Node &item : *sequence) {
        std::unique_ptr<YNode> child =
            build(&item, itemPath(path, result->items.size()), depth + 1, result->loc);
        if (!child)
          return nullptr;
        result->items.push_back(std::move(child));
      }
      return result;
    }
    if (auto *mapping = llvm::dyn_cast<llvm::yaml::MappingNode>(node)) {
      result->kind = YNode::Kind::Mapping;
      for (llvm::yaml::KeyValueNode &kv : *mapping) {
        llvm::yaml::Node *keyNode = kv.getKey();
        if (!keyNode)
          return nullptr; // a syntax error, already reported by the scanner
        auto *keyScalar = llvm::dyn_cast<llvm::yaml::ScalarNode>(keyNode);
        if (!keyScalar) {
          SMLoc loc = keyNode->getSourceRange().Start;
          diags.error(loc.isValid() ? loc : result->loc, path,
                      "expected a plain key (a name such as 'd_model')");
          return nullptr;
        }
        llvm::SmallString<32> storage;
        std::string key = keyScalar->getValue(storage).str();
        SMLoc keyLoc = keyNode->getSourceRange().Start;
        std::string keyPath = childPath(path, key);
        if (const YNode::Entry *first = result->find(key)) {
          unsigned line = diags.lineAndColumn(first->keyLoc).first;
          diags.error(keyLoc, keyPath, "duplicate key (first set on line " + Twine(line) + ")");
          return nullptr;
        }
        llvm::yaml::Node *valueNode = kv.getValue();
        if (!valueNode)
          return nullptr; // a syntax error, already reported by the scanner
        std::unique_ptr<YNode> value = build(valueNode, keyPath, depth + 1, keyLoc);
        if (!value)
          return nullptr;
        // `key: null` too: point at the key.
        if (value->kind == YNode::Kind::Null)
          value->loc = keyLoc;
        result->entries.push_back({std::move(key), keyLoc, std::move(value)});
      }
      return result;
    }
    diags.error(result->loc, path, "unsupported YAML node");
    return nullptr;
  }

private:
  static constexpr unsigned maxDepth = 16;
  Diagnostics &diags;
};

} // namespace

std::unique_ptr<YNode> fp8c::frontend::copyYamlTree(llvm::yaml::Node *root, Diagnostics &diags,
                                                    SMLoc start) {
  return TreeBuilder(diags).build(root, "", 0, start);
}
