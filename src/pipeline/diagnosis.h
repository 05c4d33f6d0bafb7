// The result of diagnosing one image, and its JSON / text renderings
// (the JSON is documented in docs/diagnose-json.md).
#pragma once

#include "dermlens/error.h"
#include "model/vlm.h"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace dermlens::pipeline {

enum class ParseStatus { Letter, LabelName, Unparseable };
const char * parse_status_name(ParseStatus status) noexcept;  // "letter" | "label_name" | "unparseable"

struct FileDigest {
    std::filesystem::path path;
    std::string sha256;
};

struct ModelSettings {
    int threads = 0;
    int context_size = 0;
    int batch_size = 0;
    int max_tokens = 0;
    unsigned seed = 0;
    std::string flash_attention;
    std::string vision_flash_attention;
};

struct Diagnosis {
    FileDigest image;
    int image_width = 0;  // as decoded, before the vision encoder's own resizing
    int image_height = 0;
    FileDigest model;
    FileDigest mmproj;
    ModelSettings settings;
    std::string strategy;              // "direct"
    std::vector<std::string> options;  // option (A) is options[0]
    std::string question;              // the text that follows the image in the user turn
    ParseStatus parse_status = ParseStatus::Unparseable;
    std::optional<std::size_t> answer_index;  // into options; empty when unparseable
    model::Generation generation;
};

// One image of a run: a diagnosis, or the error that stopped it.
struct ImageOutcome {
    std::filesystem::path image_path;
    std::optional<Diagnosis> diagnosis;
    std::optional<Error> error;
};

ModelSettings settings_of(const model::VlmParams & params);

nlohmann::ordered_json to_json(const Diagnosis & diagnosis);
nlohmann::ordered_json to_json(const ImageOutcome & outcome);

// A few human-readable lines for a terminal.
std::string to_text(const ImageOutcome & outcome);

}  // namespace dermlens::pipeline
