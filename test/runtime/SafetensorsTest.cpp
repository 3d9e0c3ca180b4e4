//===- SafetensorsTest.cpp - safetensors reader/writer --------------------===//
//
// Round trips, byte-exact layouts (a hand-made golden file and the vectors of
// the reference implementation's own tests), every class of corrupt file with
// its exact message, and a deterministic mutation sweep (the libFuzzer target
// in test/fuzz/ does the same at scale under sanitizers).
//
//===----------------------------------------------------------------------===//

#include "fp8rt/Numerics.h"
#include "fp8rt/Safetensors.h"

#include "TempDir.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <random>
#include <string>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

using namespace fp8rt;
using fp8rt::test::TempDir;

namespace {

/// A file image: length field (the header's length unless overridden), the
/// header text, then `data` bytes.
std::vector<uint8_t> image(std::string_view header,
                           std::vector<uint8_t> data = {},
                           std::optional<uint64_t> length = std::nullopt) {
  const uint64_t n = length ? *length : header.size();
  std::vector<uint8_t> out;
  for (int i = 0; i < 8; ++i)
    out.push_back(uint8_t(n >> (8 * i)));
  out.insert(out.end(), header.begin(), header.end());
  out.insert(out.end(), data.begin(), data.end());
  return out;
}

std::vector<uint8_t> floatsLE(std::initializer_list<float> xs) {
  std::vector<uint8_t> out;
  for (float x : xs) {
    const uint32_t b = floatBits(x);
    for (int i = 0; i < 4; ++i)
      out.push_back(uint8_t(b >> (8 * i)));
  }
  return out;
}

//===----------------------------------------------------------------------===//
// Round trips and layout
//===----------------------------------------------------------------------===//

TEST(Safetensors, DTypeNamesAndSizes) {
  const std::pair<DType, size_t> all[] = {
      {DType::F32, 4},     {DType::BF16, 2},    {DType::F16, 2},
      {DType::F8E4M3, 1}, {DType::F8E5M2, 1}, {DType::I32, 4},
      {DType::I64, 8},     {DType::U8, 1}};
  for (auto [d, size] : all) {
    EXPECT_EQ(dtypeSize(d), size);
    EXPECT_EQ(safetensorsDTypeFromName(safetensorsDTypeName(d)), d);
  }
  EXPECT_EQ(safetensorsDTypeFromName("F64"), std::nullopt);
  EXPECT_EQ(safetensorsDTypeFromName("f32"), std::nullopt);
}

TEST(Safetensors, RoundTripAllDTypesAndMetadata) {
  TempDir dir;
  ASSERT_FALSE(dir.path().empty());
  struct Spec {
    std::string name;
    DType dtype;
    std::vector<uint64_t> shape;
  };
  const std::vector<Spec> specs = {
      {"model.w_f32", DType::F32, {3, 5}},
      {"model.w_bf16", DType::BF16, {7}},
      {"model.w_f16", DType::F16, {2, 1, 3}},
      {"fp8.e4m3", DType::F8E4M3, {5}},
      {"fp8.e5m2", DType::F8E5M2, {3, 3}},
      {"step", DType::I64, {}}, // a scalar
      {"ids", DType::I32, {4}},
      {"bytes", DType::U8, {13}},
      {"empty", DType::F32, {0, 4}}, // zero elements
      {"name with \"quotes\", \\ and \xC3\xA9\n", DType::U8, {1}},
  };
  std::vector<std::vector<uint8_t>> data;
  SafetensorsWriter w;
  for (size_t i = 0; i < specs.size(); ++i) {
    uint64_t n = dtypeSize(specs[i].dtype);
    for (uint64_t d : specs[i].shape)
      n *= d;
    std::vector<uint8_t> bytes(n);
    for (size_t k = 0; k < n; ++k)
      bytes[k] = uint8_t(17 * i + 31 * k + 1);
    data.push_back(std::move(bytes));
    ASSERT_TRUE(w.addTensor(specs[i].name, specs[i].dtype, specs[i].shape,
                            data.back().data(), data.back().size())
                    .ok());
  }
  ASSERT_TRUE(w.addMetadata("format", "pt").ok());
  ASSERT_TRUE(w.addMetadata("fp8c.step", "1200").ok());
  ASSERT_TRUE(w.addMetadata("note", "tab\there, \"quoted\", \x01").ok());

  const std::string path = dir.path() + "/ckpt.safetensors";
  ASSERT_TRUE(w.writeFile(path).ok());
  EXPECT_EQ(dir.entries(), std::vector<std::string>{"ckpt.safetensors"});

  StatusOr<SafetensorsReader> r = SafetensorsReader::open(path);
  ASSERT_TRUE(r.ok()) << r.status().toString();
  EXPECT_EQ(r->bytes(), w.serialize());
  EXPECT_EQ(r->headerLength() % 8, 0u);
  ASSERT_EQ(r->tensors().size(), specs.size());
  for (size_t i = 0; i < specs.size(); ++i) {
    const SafetensorsEntry *e = r->find(specs[i].name);
    ASSERT_NE(e, nullptr) << specs[i].name;
    EXPECT_EQ(e->dtype, specs[i].dtype);
    EXPECT_EQ(e->shape, specs[i].shape);
    ASSERT_EQ(e->numBytes(), data[i].size());
    if (!data[i].empty()) {
      EXPECT_EQ(std::memcmp(r->data(*e), data[i].data(), data[i].size()), 0);
    }
    // Every tensor is aligned to its element size within the file.
    EXPECT_EQ((r->data(*e) - r->bytes().data()) % dtypeSize(e->dtype), 0u)
        << e->name;
  }
  EXPECT_EQ(r->find("missing"), nullptr);
  EXPECT_EQ(r->metadata().size(), 3u);
  EXPECT_EQ(r->metadataValue("fp8c.step"), std::string_view("1200"));
  EXPECT_EQ(r->metadataValue("note"),
            std::string_view("tab\there, \"quoted\", \x01"));
  EXPECT_EQ(r->metadataValue("absent"), std::nullopt);

  // Data order: 8-byte dtypes first, then 4, 2, 1 (reference dtype order),
  // names sorted within one dtype.
  std::vector<std::string> order;
  for (const SafetensorsEntry &e : r->tensors())
    order.push_back(e.name);
  const std::vector<std::string> expected = {
      "step",      "empty",    "model.w_f32", "ids",
      "model.w_bf16", "model.w_f16", "fp8.e4m3", "fp8.e5m2",
      "bytes",     "name with \"quotes\", \\ and \xC3\xA9\n"};
  EXPECT_EQ(order, expected);
  // Escapes are written as serde_json writes them.
  const std::string header = w.header();
  EXPECT_NE(header.find(R"("name with \"quotes\", \\ and )"
                        "\xC3\xA9"
                        R"(\n")"),
            std::string::npos)
      << header;
  EXPECT_NE(header.find(R"("note":"tab\there, \"quoted\", \u0001")"),
            std::string::npos)
      << header;

  // Overwriting an existing checkpoint replaces it and leaves no temporary.
  SafetensorsWriter w2;
  const std::vector<uint8_t> one = floatsLE({1.0f});
  ASSERT_TRUE(w2.addTensor("x", DType::F32, {1}, one.data(), one.size()).ok());
  ASSERT_TRUE(w2.writeFile(path).ok());
  EXPECT_EQ(dir.entries(), std::vector<std::string>{"ckpt.safetensors"});
  StatusOr<SafetensorsReader> r2 = SafetensorsReader::open(path);
  ASSERT_TRUE(r2.ok()) << r2.status().toString();
  EXPECT_EQ(r2->tensors().size(), 1u);
}

// A golden file constructed by hand, byte by byte, in the reference layout.
TEST(Safetensors, GoldenTinyF32) {
  const std::string json =
      R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})";
  ASSERT_EQ(json.size(), 54u);
  std::vector<uint8_t> golden = {56, 0, 0, 0, 0, 0, 0, 0}; // 54 + 2 padding
  golden.insert(golden.end(), json.begin(), json.end());
  golden.push_back(' ');
  golden.push_back(' ');
  for (uint8_t b : {0x00, 0x00, 0x80, 0x3F, 0x00, 0x00, 0x00, 0xC0}) // 1, -2
    golden.push_back(b);

  const std::vector<uint8_t> data = floatsLE({1.0f, -2.0f});
  SafetensorsWriter w;
  ASSERT_TRUE(w.addTensor("a", DType::F32, {2}, data.data(), data.size()).ok());
  EXPECT_EQ(w.serialize(), golden);

  StatusOr<SafetensorsReader> r = SafetensorsReader::parse(golden, "golden");
  ASSERT_TRUE(r.ok()) << r.status().toString();
  ASSERT_EQ(r->tensors().size(), 1u);
  float values[2];
  std::memcpy(values, r->data(r->tensors()[0]), 8);
  EXPECT_EQ(values[0], 1.0f);
  EXPECT_EQ(values[1], -2.0f);
}

// The byte vectors asserted by the reference implementation's own tests
// (safetensors/src/tensor.rs: test_serialization, test_empty,
// test_serialization_forced_alignement).
TEST(Safetensors, ReferenceImplementationVectors) {
  const std::vector<uint8_t> six = floatsLE({0, 1, 2, 3, 4, 5});
  {
    SafetensorsWriter w;
    ASSERT_TRUE(w.addTensor("attn.0", DType::F32, {1, 2, 3}, six.data(),
                            six.size())
                    .ok());
    EXPECT_EQ(w.serialize(),
              image(R"({"attn.0":{"dtype":"F32","shape":[1,2,3],)"
                    R"("data_offsets":[0,24]}})",
                    six));
    EXPECT_EQ(w.header().size(), 64u);
  }
  {
    SafetensorsWriter w;
    ASSERT_TRUE(w.addTensor("attn0", DType::F32, {1, 1, 2, 3}, six.data(),
                            six.size())
                    .ok());
    EXPECT_EQ(w.serialize(),
              image(R"({"attn0":{"dtype":"F32","shape":[1,1,2,3],)"
                    R"("data_offsets":[0,24]}}       )",
                    six));
  }
  {
    SafetensorsWriter w;
    EXPECT_EQ(w.serialize(), image("{}      "));
    ASSERT_TRUE(w.addMetadata("framework", "pt").ok());
    EXPECT_EQ(w.serialize(), image(R"({"__metadata__":{"framework":"pt"}}     )"));
    StatusOr<SafetensorsReader> r =
        SafetensorsReader::parse(w.serialize(), "meta");
    ASSERT_TRUE(r.ok()) << r.status().toString();
    EXPECT_TRUE(r->tensors().empty());
    EXPECT_EQ(r->metadataValue("framework"), std::string_view("pt"));
  }
}

TEST(Safetensors, ReaderAcceptsWhatTheFormatAllows) {
  // Keys in any order (older writers sorted by name only), an unpadded
  // header (data not aligned), whitespace, escapes, zero-size tensors at any
  // offset, "__metadata__" anywhere.
  const std::string header =
      " {\"b\" : {\"shape\":[1],\"data_offsets\":[4,8],\"dtype\":\"F32\"},\n"
      "  \"__metadata__\": {\"k\\u00e9\\ud83d\\ude00\": \"v\\/\"},"
      " \"a\":{\"dtype\":\"U8\",\"shape\":[4],\"data_offsets\":[0,4]},"
      " \"z\":{\"dtype\":\"BF16\",\"shape\":[0],\"data_offsets\":[4,4]},"
      " \"y\":{\"dtype\":\"I64\",\"shape\":[3,0],\"data_offsets\":[8,8]}}";
  // A leading space is not accepted (the header must start with '{').
  StatusOr<SafetensorsReader> bad = SafetensorsReader::parse(
      image(header, std::vector<uint8_t>(8, 7)), "h");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(), "h: header must start with '{', found ' '");

  StatusOr<SafetensorsReader> r = SafetensorsReader::parse(
      image(header.substr(1), std::vector<uint8_t>(8, 7)), "h");
  ASSERT_TRUE(r.ok()) << r.status().toString();
  std::vector<std::string> order;
  for (const SafetensorsEntry &e : r->tensors())
    order.push_back(e.name);
  EXPECT_EQ(order, (std::vector<std::string>{"a", "z", "b", "y"}));
  EXPECT_EQ(r->metadataValue("k\xC3\xA9\xF0\x9F\x98\x80"), std::string_view("v/"));
  EXPECT_EQ(r->find("y")->numElements(), 0u);
  EXPECT_EQ(r->find("y")->shape, (std::vector<uint64_t>{3, 0}));
}

TEST(Safetensors, WriterErrors) {
  SafetensorsWriter w;
  const std::vector<uint8_t> d(8);
  ASSERT_TRUE(w.addTensor("a", DType::F32, {2}, d.data(), 8).ok());
  EXPECT_EQ(w.addTensor("a", DType::F32, {2}, d.data(), 8).message(),
            "safetensors writer: tensor 'a': added twice");
  EXPECT_EQ(w.addTensor("b", DType::BF16, {3}, d.data(), 8).message(),
            "safetensors writer: tensor 'b': 8 bytes given, expected 6 (shape "
            "[3] of BF16)");
  EXPECT_EQ(w.addTensor("__metadata__", DType::U8, {8}, d.data(), 8).message(),
            "safetensors writer: tensor '__metadata__': the name is reserved "
            "for metadata");
  EXPECT_EQ(w.addTensor("\xFF", DType::U8, {8}, d.data(), 8).message(),
            "safetensors writer: tensor '\xFF': the name is not valid UTF-8");
  EXPECT_EQ(w.addTensor("c", DType::I64, {uint64_t(1) << 62}, d.data(), 8)
                .message(),
            "safetensors writer: tensor 'c': shape [4611686018427387904] of "
            "I64 has more than 2^64 bytes");
  EXPECT_EQ(w.addTensor("d", DType::U8, {8}, nullptr, 8).message(),
            "safetensors writer: tensor 'd': null data for 8 bytes");
  ASSERT_TRUE(w.addMetadata("k", "v").ok());
  EXPECT_EQ(w.addMetadata("k", "w").message(),
            "safetensors writer: metadata 'k': added twice");
  EXPECT_EQ(w.addMetadata("k2", "\xC0\x80").code(),
            StatusCode::kInvalidArgument);
}

TEST(Safetensors, IoErrors) {
  TempDir dir;
  const std::string missing = dir.path() + "/nope.safetensors";
  StatusOr<SafetensorsReader> r = SafetensorsReader::open(missing);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(r.status().message(),
            missing + ": cannot open: No such file or directory");

  StatusOr<SafetensorsReader> d = SafetensorsReader::open(dir.path());
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.status().message(), dir.path() + ": not a regular file");

  // Writing into a directory that does not exist fails before touching
  // anything, and names the temporary file it tried to create.
  SafetensorsWriter w;
  const std::string target = dir.path() + "/no/such/dir/x.safetensors";
  Status s = w.writeFile(target);
  EXPECT_EQ(s.code(), StatusCode::kIoError);
  EXPECT_EQ(s.message(), target + ": cannot create " + target + ".tmp." +
                             std::to_string(::getpid()) +
                             ": No such file or directory");
  EXPECT_TRUE(dir.entries().empty());
}

//===----------------------------------------------------------------------===//
// Corrupt files: every check, with its exact message
//===----------------------------------------------------------------------===//

struct Corrupt {
  const char *what;
  std::vector<uint8_t> bytes;
  std::string message; // after "bad.safetensors: "
};

std::string tensorA(std::string_view fields) {
  return std::string(R"({"a":{)") + std::string(fields) + "}}";
}

std::vector<Corrupt> corruptFiles() {
  const std::vector<uint8_t> d8(8, 0), d12(12, 0), d20(20, 0), d4(4, 0);
  const std::string ok2 = R"("dtype":"F32","shape":[2],"data_offsets":[0,8])";
  std::vector<Corrupt> c;
  c.push_back({"shorter than the length field", {1, 2, 3, 4, 5},
               "file is 5 bytes, expected at least 8 (the header length)"});
  c.push_back({"header longer than the file", image("{}", d4, 1000),
               "header length 1000 exceeds the 6 bytes that follow the length "
               "field"});
  c.push_back({"header length beyond the limit",
               image("{}", {}, uint64_t(1) << 40),
               "header length 1099511627776 exceeds the limit of 100000000 "
               "bytes"});
  c.push_back({"header length 2^64-1 (no overflow)", image("{}", {}, ~0ull),
               "header length 18446744073709551615 exceeds the limit of "
               "100000000 bytes"});
  c.push_back({"empty header", image(""),
               "header must start with '{', found the end of the file"});
  c.push_back({"not an object", image("[]"),
               "header must start with '{', found '['"});
  c.push_back({"JSON syntax: missing comma",
               image(R"({"a":{"dtype":"F32" "shape":[2],"data_offsets":[0,8]}})",
                     d8),
               "header: expected ',' or '}' after an object member, found '\"' "
               "at byte 28"});
  c.push_back({"JSON truncated", image(R"({"a":{"dtype":"F32")"),
               "header: expected ',' or '}' after an object member, found the "
               "end of the text at byte 27"});
  c.push_back({"JSON trailing comma", image(R"({"a":1,})"),
               "header: expected a string key after ',', found '}' at byte 15"});
  c.push_back({"JSON data after the object", image("{} x"),
               "header: unexpected data after the JSON value at byte 11"});
  c.push_back({"invalid UTF-8", image("{\"\xFF\":1}"),
               "header: invalid UTF-8 in a string at byte 10"});
  c.push_back({"overlong UTF-8", image("{\"\xC0\xAF\":1}"),
               "header: invalid UTF-8 in a string at byte 10"});
  c.push_back({"raw control character", image("{\"a\nb\":1}"),
               "header: control character 0x0a in a string (it must be "
               "escaped) at byte 11"});
  c.push_back({"lone surrogate escape", image(R"({"\udc00":1})"),
               "header: lone low surrogate \\u escape in a string at byte 10"});
  c.push_back({"leading zero", image(tensorA(R"("dtype":"F32","shape":[02])")),
               "header: leading zero in a number at byte 37"});
  c.push_back({"nesting too deep",
               image("{\"__metadata__\":" + std::string(100, '[') +
                     std::string(100, ']') + "}"),
               "header: JSON nested deeper than 64 levels at byte 87"});
  c.push_back({"duplicate tensor name",
               image("{\"a\":{" + ok2 + "},\"a\":{" + ok2 + "}}", d8),
               "header: duplicate key \"a\" at byte 62"});
  c.push_back({"tensor entry not an object", image(R"({"a":[1,2]})"),
               "tensor 'a': expected an object with dtype, shape and "
               "data_offsets, found an array of 2 elements"});
  c.push_back({"unknown field",
               image(tensorA(R"("dtype":"F32","shape":[2],"offsets":[0,8])"),
                     d8),
               "tensor 'a': unknown field 'offsets' (expected dtype, shape and "
               "data_offsets)"});
  c.push_back({"missing field", image(tensorA(R"("dtype":"F32","shape":[2])")),
               "tensor 'a': missing field 'data_offsets'"});
  c.push_back({"dtype not a string",
               image(tensorA(R"("dtype":4,"shape":[1],"data_offsets":[0,4])"),
                     d4),
               "tensor 'a': dtype: expected a string, found 4"});
  c.push_back(
      {"unknown dtype",
       image(tensorA(R"("dtype":"F64","shape":[1],"data_offsets":[0,8])"), d8),
       "tensor 'a': unknown dtype \"F64\" (supported: F32, BF16, F16, F8_E4M3, "
       "F8_E5M2, I32, I64, U8)"});
  c.push_back({"shape not an array",
               image(tensorA(R"("dtype":"F32","shape":"2","data_offsets":[0,8])"),
                     d8),
               "tensor 'a': shape: expected an array of non-negative integers, "
               "found string \"2\""});
  c.push_back(
      {"negative dimension",
       image(tensorA(R"("dtype":"F32","shape":[-2],"data_offsets":[0,8])"), d8),
       "tensor 'a': shape[0]: expected a non-negative 64-bit integer, found -2"});
  c.push_back(
      {"fractional dimension",
       image(tensorA(R"("dtype":"F32","shape":[1,2.0],"data_offsets":[0,8])"),
             d8),
       "tensor 'a': shape[1]: expected a non-negative 64-bit integer, found "
       "2.0"});
  c.push_back({"offsets not a pair",
               image(tensorA(R"("dtype":"F32","shape":[2],"data_offsets":[0,4,8])"),
                     d8),
               "tensor 'a': data_offsets: expected [begin, end], found an array "
               "of 3 elements"});
  c.push_back(
      {"offset beyond 64 bits",
       image(tensorA(R"("dtype":"U8","shape":[2],)"
                     R"("data_offsets":[0,18446744073709551616])"),
             d8),
       "tensor 'a': data_offsets[1]: expected a non-negative 64-bit integer, "
       "found 18446744073709551616"});
  c.push_back({"begin after end",
               image(tensorA(R"("dtype":"U8","shape":[8],"data_offsets":[8,0])"),
                     d8),
               "tensor 'a': data_offsets [8, 0]: begin is after end"});
  c.push_back({"shape x dtype overflows",
               image(tensorA(R"("dtype":"F32","shape":[4294967296,4294967296],)"
                             R"("data_offsets":[0,8])"),
                     d8),
               "tensor 'a': shape [4294967296, 4294967296] of F32 has more "
               "than 2^64 bytes"});
  c.push_back({"span does not match shape x dtype",
               image(tensorA(R"("dtype":"F32","shape":[3],"data_offsets":[0,8])"),
                     d8),
               "tensor 'a': data_offsets [0, 8] span 8 bytes, expected 12 "
               "(shape [3] of F32)"});
  c.push_back({"offsets beyond the data", image(tensorA(ok2), d4),
               "tensor 'a': data_offsets [0, 8] end beyond the 4 bytes of "
               "data"});
  c.push_back(
      {"huge offsets (no overflow)",
       image(tensorA(R"("dtype":"U8","shape":[8],)"
                     R"("data_offsets":[18446744073709551607,18446744073709551615])"),
             d8),
       "tensor 'a': data_offsets [18446744073709551607, 18446744073709551615] "
       "end beyond the 8 bytes of data"});
  c.push_back(
      {"overlapping tensors",
       image(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
             R"("b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})",
             d12),
       "tensor 'b': data_offsets [4, 12] overlap tensor 'a' at [0, 8]"});
  c.push_back(
      {"gap between tensors",
       image(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
             R"("b":{"dtype":"F32","shape":[2],"data_offsets":[12,20]}})",
             d20),
       "tensor 'b': data_offsets [12, 20] leave data bytes [8, 12) unused; "
       "expected it to begin at 8"});
  c.push_back({"data not starting at 0",
               image(tensorA(R"("dtype":"F32","shape":[1],"data_offsets":[4,8])"),
                     d8),
               "tensor 'a': data_offsets [4, 8] leave data bytes [0, 4) unused; "
               "expected it to begin at 0"});
  c.push_back({"unused data at the end", image(tensorA(ok2), d12),
               "the tensors cover 8 of the 12 data bytes; expected exactly all "
               "(bytes [8, 12) unused)"});
  c.push_back({"metadata not an object", image(R"({"__metadata__":[]})"),
               "__metadata__: expected an object of strings, found an array "
               "of 0 elements"});
  c.push_back({"metadata value not a string",
               image(R"({"__metadata__":{"step":5}})"),
               "__metadata__ 'step': expected a string, found 5"});
  return c;
}

TEST(Safetensors, CorruptFilesHaveExactErrors) {
  const std::vector<Corrupt> cases = corruptFiles();
  EXPECT_GE(cases.size(), 15u);
  for (const Corrupt &c : cases) {
    SCOPED_TRACE(c.what);
    StatusOr<SafetensorsReader> r =
        SafetensorsReader::parse(c.bytes, "bad.safetensors");
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), StatusCode::kDataLoss);
    EXPECT_EQ(r.status().message(), "bad.safetensors: " + c.message);
  }
}

TEST(Safetensors, CorruptFileOnDiskNamesThePath) {
  TempDir dir;
  const std::string path = dir.path() + "/trunc.safetensors";
  const std::vector<uint8_t> bytes = image("{\"a\":", {}, 200);
  FILE *f = std::fopen(path.c_str(), "wb");
  ASSERT_NE(f, nullptr);
  ASSERT_EQ(std::fwrite(bytes.data(), 1, bytes.size(), f), bytes.size());
  std::fclose(f);
  StatusOr<SafetensorsReader> r = SafetensorsReader::open(path);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(),
            path + ": header length 200 exceeds the 5 bytes that follow the "
                   "length field");
}

//===----------------------------------------------------------------------===//
// Robustness: thousands of deterministic random mutations of a valid file
//===----------------------------------------------------------------------===//

std::vector<uint8_t> validFileForMutation(std::vector<std::vector<uint8_t>> &keep) {
  SafetensorsWriter w;
  const std::pair<const char *, DType> specs[] = {
      {"transformer.wte.weight", DType::F32}, {"transformer.h.0.w", DType::BF16},
      {"fp8.scale", DType::F32},              {"fp8.q", DType::F8E4M3},
      {"grad.q", DType::F8E5M2},             {"step", DType::I64},
      {"tokens", DType::I32},                 {"mask", DType::U8},
      {"half", DType::F16}};
  uint64_t dim = 3;
  for (auto [name, dtype] : specs) {
    keep.emplace_back(dtypeSize(dtype) * dim * 2, uint8_t(dim));
    (void)w.addTensor(name, dtype, {dim, 2}, keep.back().data(),
                      keep.back().size());
    dim = dim % 5 + 1;
  }
  (void)w.addMetadata("format", "pt");
  (void)w.addMetadata("fp8c.recipe", "delayed");
  return w.serialize();
}

TEST(Safetensors, RandomMutationsNeverCrash) {
  std::vector<std::vector<uint8_t>> keep;
  const std::vector<uint8_t> base = validFileForMutation(keep);
  ASSERT_TRUE(SafetensorsReader::parse(base, "m").ok());
  const uint64_t headerEnd = 8 + SafetensorsReader::parse(base, "m")->headerLength();

  std::mt19937_64 rng(0x5AFE7E45);
  auto pick = [&](uint64_t n) { return n ? rng() % n : 0; };
  const char interesting[] = "{}[],:\"\\0123456789-.eE \xFF\x00";
  size_t accepted = 0, rejected = 0;
  for (int iter = 0; iter < 5000; ++iter) {
    std::vector<uint8_t> m = base;
    const int rounds = 1 + int(pick(3));
    for (int k = 0; k < rounds; ++k) {
      // Mostly inside the header, where the parser lives.
      const uint64_t span = pick(4) ? headerEnd : m.size();
      const uint64_t at = pick(span ? span : 1);
      switch (pick(8)) {
      case 0: // flip a bit
        if (at < m.size())
          m[at] ^= uint8_t(1u << pick(8));
        break;
      case 1: // set an interesting byte
        if (at < m.size())
          m[at] = uint8_t(interesting[pick(sizeof interesting - 1)]);
        break;
      case 2: // change a digit
        for (uint64_t i = at; i < m.size() && i < headerEnd; ++i)
          if (m[i] >= '0' && m[i] <= '9') {
            m[i] = uint8_t('0' + pick(10));
            break;
          }
        break;
      case 3: // delete a range
        if (at < m.size())
          m.erase(m.begin() + long(at),
                  m.begin() + long(std::min<uint64_t>(m.size(), at + 1 + pick(16))));
        break;
      case 4: { // insert random bytes
        const uint64_t n = 1 + pick(8);
        for (uint64_t i = 0; i < n; ++i)
          m.insert(m.begin() + long(std::min<uint64_t>(at, m.size())),
                   uint8_t(pick(256)));
        break;
      }
      case 5: // truncate
        m.resize(size_t(pick(m.size() + 1)));
        break;
      case 6: { // nudge or replace the length field
        if (m.size() >= 8) {
          uint64_t n = 0;
          std::memcpy(&n, m.data(), 8);
          n = pick(2) ? n + pick(17) - 8 : rng();
          std::memcpy(m.data(), &n, 8);
        }
        break;
      }
      case 7: { // duplicate a chunk of the header inside it
        if (at < headerEnd && headerEnd <= m.size()) {
          const uint64_t len = std::min<uint64_t>(1 + pick(40), headerEnd - at);
          std::vector<uint8_t> chunk(m.begin() + long(at),
                                     m.begin() + long(at + len));
          const uint64_t to = std::min<uint64_t>(pick(headerEnd), m.size());
          m.insert(m.begin() + long(to), chunk.begin(), chunk.end());
        }
        break;
      }
      }
    }
    StatusOr<SafetensorsReader> r = SafetensorsReader::parse(m, "mut");
    if (!r.ok()) {
      ++rejected;
      ASSERT_EQ(r.status().message().rfind("mut: ", 0), 0u)
          << r.status().message();
      ASSERT_EQ(r.status().code(), StatusCode::kDataLoss);
      continue;
    }
    ++accepted;
    uint64_t covered = 0;
    for (const SafetensorsEntry &e : r->tensors()) {
      ASSERT_EQ(e.begin, covered);
      ASSERT_EQ(e.numBytes(), e.numElements() * dtypeSize(e.dtype));
      covered = e.end;
      ASSERT_EQ(r->find(e.name), &e);
    }
    ASSERT_EQ(8 + r->headerLength() + covered, m.size());
  }
  // Both outcomes happen (a mutated digit in a shape can stay valid).
  EXPECT_GT(rejected, 4000u);
  EXPECT_GT(accepted, 0u);
}

} // namespace
