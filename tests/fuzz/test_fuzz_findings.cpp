// The findings of the fuzzing campaigns (docs/fuzzing.md), each fixed and kept as a test
// named after what it was; the inputs themselves are replayed from tests/fuzz/regressions/.
#include "support/expect_error.h"
#include "support/temp_dir.h"

#include "dermlens/kb/knowledge_base.h"
#include "dermlens/request_json.h"
#include "eval/run_store.h"
#include "image/image.h"
#include "model/gguf_check.h"
#include "probe/probe.h"
#include "request_parsing.h"

#include <sqlite3.h>

#include <gtest/gtest.h>

#include <cstdint>
#include <string>

namespace {

namespace fs = std::filesystem;
using dermlens::ErrorKind;
using dermlens::server::chat_request_from_json;
using dermlens::test::expect_error;
using dermlens::test::TempDir;
using dermlens::test::write_file;

// A number beyond double's range made nlohmann::json throw out_of_range.406, which no reader
// caught: `dermlens` ended in exit 70, "internal error: [json.exception.out_of_range.406]
// number overflow", instead of refusing the file (the finding of issue 20's new-user trial).
TEST(FuzzFindings, ProbeFileNumberOverflowIsAnInvalidInputErrorNamingTheFile) {
    TempDir dir("fuzz_findings");
    const fs::path probe = dir / "probe.json";
    write_file(probe, R"({"format": "dermlens.probe/1", "dimension": 1e400})");
    expect_error([&] { (void)dermlens::probe::load_probe(probe); }, ErrorKind::InvalidInput,
                 {"probe file '" + probe.string() + "'", "malformed JSON", "number overflow"});
}

TEST(FuzzFindings, KnowledgeBaseFileNumberOverflowIsAnInvalidInputErrorNamingTheFile) {
    TempDir dir("fuzz_findings");
    const fs::path file = dir / "kb" / "ddx.json";
    write_file(file, R"({"schema": "dermlens.kb.ddx/1", "edges": [1e400]})");
    expect_error([&] { (void)dermlens::kb::KnowledgeBase::load({dir / "kb"}); }, ErrorKind::InvalidInput,
                 {"kb file '" + file.string() + "'", "malformed JSON", "number overflow"});
}

TEST(FuzzFindings, RunStoreSettingsNumberOverflowIsAnInvalidInputErrorNamingTheFile) {
    TempDir dir("fuzz_findings");
    const fs::path file = dir / "run" / "results.sqlite";
    { (void)dermlens::eval::RunStore::create(file, {{"seed", 0}}); }
    sqlite3 * db = nullptr;
    ASSERT_EQ(sqlite3_open(file.c_str(), &db), SQLITE_OK);
    EXPECT_EQ(sqlite3_exec(db, "UPDATE meta SET value = '{\"seed\": 1e400}' WHERE name = 'settings'", nullptr, nullptr,
                           nullptr),
              SQLITE_OK);
    sqlite3_close(db);
    expect_error([&] { (void)dermlens::eval::RunStore::open(file); }, ErrorKind::InvalidInput,
                 {"run store '" + file.string() + "'", "not valid JSON", "number overflow"});
}

// A GGUF header written by hand (ggml/docs/gguf.md, version 3): a gemma3 text model whose one
// tensor has the given shape, F32, at offset 0, and no data after the header.
std::string little_endian(std::uint64_t value, int bytes) {
    std::string out;
    for (int i = 0; i < bytes; ++i) {
        out += static_cast<char>((value >> (8 * i)) & 0xff);
    }
    return out;
}
std::string gguf_string(const std::string & text) {
    return little_endian(text.size(), 8) + text;
}
std::string gguf_text_model(std::uint64_t tensors, std::uint64_t ne0, std::uint64_t ne1) {
    std::string out = "GGUF" + little_endian(3, 4) + little_endian(tensors, 8) + little_endian(2, 8);
    out += gguf_string("general.architecture") + little_endian(8, 4) + gguf_string("gemma3");
    out += gguf_string("gemma3.embedding_length") + little_endian(4, 4) + little_endian(8, 4);
    out += gguf_string("token_embd.weight") + little_endian(2, 4) + little_endian(ne0, 8) + little_endian(ne1, 8);
    out += little_endian(0, 4) + little_endian(0, 8);  // GGML_TYPE_F32, offset 0
    out.resize((out.size() + 31) / 32 * 32, '\0');
    return out;
}

// ggml counts a tensor's elements with a signed multiplication before checking it: 2^62 x 4
// wraps to 0, ggml's own check then passes, and the byte size wrapped too, so the old pre-check
// found the file long enough and would have handed it to llama.cpp (found by fuzz_gguf).
TEST(FuzzFindings, GgufTensorShapeWhoseSizeOverflowsIsRefusedNamingTheTensor) {
    TempDir dir("fuzz_findings");
    const fs::path model = dir / "model.gguf";
    write_file(model, gguf_text_model(1, std::uint64_t{1} << 62, 4));
    expect_error([&] { (void)dermlens::model::check_text_model(model); }, ErrorKind::InvalidModel,
                 {"model '" + model.string() + "'", "tensor 'token_embd.weight'", "beyond any file size"});
}

// ggml compares each tensor name with every earlier one: millions of entries would take minutes.
TEST(FuzzFindings, GgufHeaderListingTooManyTensorsIsRefusedBeforeParsing) {
    TempDir dir("fuzz_findings");
    const fs::path model = dir / "model.gguf";
    write_file(model, gguf_text_model(100'000'000, 8, 4));
    expect_error([&] { (void)dermlens::model::check_text_model(model); }, ErrorKind::InvalidModel,
                 {"model '" + model.string() + "'", "100000000 tensors", "at most 16384"});
}

// A grey PNG's tRNS key is scaled by 255 / (2^depth - 1): with the IHDR's bit depth 0 that was
// an integer division by zero, SIGFPE, before any decoder saw the file (found by fuzz_image_header).
TEST(FuzzFindings, PngWithBitDepthZeroAndGreyTransparencyKeyIsRefusedNotDividedByZero) {
    const auto chunk = [](const std::string & type, const std::string & data) {
        std::string length;
        for (int shift = 24; shift >= 0; shift -= 8) {
            length += static_cast<char>((data.size() >> shift) & 0xff);
        }
        return length + type + data + std::string(4, '\0');  // the header walk reads no CRC
    };
    const std::string ihdr("\0\0\0\1\0\0\0\1\0\0\0\0\0", 13);  // 1x1, bit depth 0, grey
    const std::string png = "\x89PNG\r\n\x1a\n" + chunk("IHDR", ihdr) + chunk("tRNS", std::string("\0\1", 2)) +
                            chunk("IEND", "");
    const std::vector<std::uint8_t> bytes(png.begin(), png.end());
    expect_error([&] { (void)dermlens::image::decode_image(bytes, "upload.png"); }, ErrorKind::InvalidInput,
                 {"upload.png", "bit depth 0 is not valid for colour type 0"});
}

// A store whose page 4 is damaged still opened: COUNT(*) said 0 samples while the scan returned 2,
// so --resume would have redone or skipped samples (found by fuzz_run_store; its input is here).
TEST(FuzzFindings, DamagedRunStoreIsRefusedInsteadOfReadInconsistently) {
    TempDir dir("fuzz_findings");
    const fs::path file = dir / "results.sqlite";
    fs::copy_file(fs::path(DERMLENS_SOURCE_DIR) / "tests/fuzz/regressions/fuzz_run_store/damaged-page-counts-disagree",
                  file);
    expect_error([&] { (void)dermlens::eval::RunStore::open(file); }, ErrorKind::InvalidInput,
                 {"run store '" + file.string() + "'", "the SQLite file is damaged", "free space corruption"});
}

// Found while writing fuzz_server_request (its inputs are in regressions/fuzz_server_request/):
// nlohmann's value("stream", false) throws type_error.302 for a string, which reached the client
// as a 500 "internal error" instead of a refusal naming the key.
TEST(FuzzFindings, ChatStreamThatIsNoBooleanIsRefusedNamingTheKey) {
    expect_error([] { (void)chat_request_from_json(R"({"messages": [{"role": "user", "content": "hi"}], "stream": "no"})",
                                                   dermlens::DecodeLimits{}); },
                 ErrorKind::InvalidArgument, {"stream", "expected true or false"});
}

// get<float>() of 1e300 converts a double beyond float's range (undefined in C++; infinity on
// IEEE hardware), and an infinite temperature passed GenerateRequest::validate (>= 0).
TEST(FuzzFindings, ChatTemperatureBeyondFloatIsRefusedNotMadeInfinite) {
    expect_error([] { (void)chat_request_from_json(R"({"messages": [{"role": "user", "content": "hi"}], "temperature": 1e300})",
                                                   dermlens::DecodeLimits{}); },
                 ErrorKind::InvalidArgument, {"temperature", "expected a number"});
}

// diagnose_request_from_json's whole numbers were cast to long long before their range was checked:
// 1e300, or "nan" given as text (std::from_chars reads it), was undefined behaviour (UBSan:
// "1e+300 is outside the range of representable values of type 'long long'"); a temperature beyond
// float's range became infinity and passed validation (regressions/fuzz_request_json/).
TEST(FuzzFindings, RequestWholeNumberBeyondLongLongIsRefusedNotConverted) {
    expect_error([] { (void)dermlens::diagnose_request_from_json({{"top_k", 1e300}}); }, ErrorKind::InvalidArgument,
                 {"top_k", "out of range 1..1000"});
}

TEST(FuzzFindings, RequestWholeNumberNanAsTextIsRefusedNotConverted) {
    expect_error([] { (void)dermlens::diagnose_request_from_json({{"seed", "nan"}}); }, ErrorKind::InvalidArgument,
                 {"seed", "expected a whole number"});
}

TEST(FuzzFindings, RequestTemperatureBeyondFloatIsRefusedNotMadeInfinite) {
    expect_error([] { (void)dermlens::diagnose_request_from_json({{"temperature", "1e300"}}); },
                 ErrorKind::InvalidArgument, {"temperature", "out of range"});
}

}  // namespace
