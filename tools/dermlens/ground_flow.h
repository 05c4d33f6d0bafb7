// What the `ground` subcommands (abstention, blind, attention) share: their options, the
// manifest's images with the lesion mask of each, one session — knowledge base, probe and
// model loaded once, one re-ranker per strategy asked — the loop over the images that
// records each image's failure and goes on, and the report folder (--out).
#pragma once

#include "commands.h"
#include "diagnose_flow.h"

#include "dermlens/engine.h"
#include "grounding/heatmap.h"
#include "grounding/lesion_mask.h"
#include "pipeline/rerank.h"

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace dermlens::cli {

void register_ground_abstention(CLI::App & ground, std::vector<Command> & commands);  // cmd_ground_abstention.cpp
void register_ground_blind(CLI::App & ground, std::vector<Command> & commands);       // cmd_ground_blind.cpp
void register_ground_attention(CLI::App & ground, std::vector<Command> & commands);   // cmd_ground_attention.cpp

struct GroundOptions {
    std::string model;
    std::string mmproj;
    std::string manifest;
    std::string out;
    std::size_t limit = 0;  // 0: every image of the manifest
    std::string mask_column = "mask";
    std::string box_column = "box";
    DecisionOptions decision;
    ClassOptions classes;
    RuntimeOptions runtime;
};

// --model --mmproj --manifest --out --limit --mask-column --box-column, the class options, the
// decision options (default strategy `default_strategy`) except those named in `left_out`,
// and the runtime options.
void add_ground_options(CLI::App & app, GroundOptions & options, const std::string & default_strategy,
                        const std::vector<std::string> & left_out);

// --strategies: the strategies each image is asked with, comma-separated.
void add_strategies_option(CLI::App & app, std::string & strategies);

// "direct, describe-then-decide" as strategy names; throws Error(InvalidArgument) for an
// unknown or repeated name or an empty list.
std::vector<std::string> parse_strategy_list(const std::string & text);

// The first --limit images of the manifest, each with its clinical context and, from the
// --mask-column / --box-column cells, its lesion mask file (relative to the manifest's folder)
// and box. Throws Error(InvalidArgument) when a renamed mask or box column is not in the manifest.
std::vector<ImageInput> ground_inputs(const GroundOptions & options);

// Where the image's lesion mask comes from: its mask file, else its box, else segmentation.
grounding::MaskSpec mask_spec(const ImageInput & input);

struct LoadedImage {
    std::string sha256;  // of the file
    cv::Mat3b rgb;       // R, G, B
};

// How the session's requests are set up, beyond the decision options.
struct GroundSetup {
    std::vector<std::string> strategies;  // one request each, in this order
    bool not_sure = false;                // offer the "not sure" option whatever --not-sure says
    std::optional<AttentionOptions> attention;  // capture attention (the model without flash attention)
};

class GroundSession {
public:
    // Validates every option first, then loads the Engine. Throws dermlens::Error.
    GroundSession(const GroundOptions & options, GroundSetup setup);

    const std::vector<std::string> & strategies() const noexcept { return setup_.strategies; }

    // Decodes the image (refusing one above --max-megapixels) and hashes its file.
    LoadedImage load(const ImageInput & input) const;
    // Runs the vision encoder once; every strategy then reads this encoding.
    EncodedImage encode(const cv::Mat3b & rgb);
    // The strategy at `strategy` (index into strategies()) on an encoded image, its options
    // shuffled (--shuffle-options) as for the image of hash `seed_sha256`.
    pipeline::RerankResult diagnose(std::size_t strategy, const EncodedImage & encoded, const ImageInput & input,
                                    const std::string & seed_sha256);

    std::size_t encoder_runs() const { return engine_.info().encoder_runs; }

    // The run's settings for the report: model files, manifest, strategies, classes, decision and runtime options.
    nlohmann::ordered_json settings() const;

private:
    GroundOptions options_;
    GroundSetup setup_;
    std::vector<DiagnoseRequest> requests_;  // per strategy
    Engine engine_;
};

// What one diagnosis decided: abstained, reason, final label and probability, the "not sure"
// option's probability, the description (describe-then-decide).
nlohmann::ordered_json decision_json(const pipeline::RerankResult & result);

// The mask's origin and the share of the image it covers.
nlohmann::ordered_json mask_json(const grounding::LesionMask & mask);

// Every image's row, in manifest order: "image" and "label", then what `one` returns, or
// "error" {kind, message} when it threw dermlens::Error (also printed on stderr; an error that
// stops_batch() rethrows: every image would fail alike). A progress line on stderr.
struct ImageRows {
    nlohmann::ordered_json rows = nlohmann::ordered_json::array();
    std::size_t failed = 0;
};
using GroundOne = std::function<nlohmann::ordered_json(const ImageInput &)>;
ImageRows for_each_image(const std::string & title, const std::vector<ImageInput> & inputs, const GroundOne & one);

// The rows that have no error.
std::vector<const nlohmann::ordered_json *> succeeded(const nlohmann::ordered_json & rows);

// The report folder: created when missing; throws Error(InvalidArgument) when it is not a folder.
std::filesystem::path prepare_out_dir(const std::string & out);

// Throw Error(InvalidInput) naming the file that cannot be written.
void write_text_file(const std::filesystem::path & path, const std::string & text);
void write_json_file(const std::filesystem::path & path, const nlohmann::ordered_json & value);
void write_png(const std::filesystem::path & path, const cv::Mat3b & image, grounding::ChannelOrder order);  // creates its folder

// `count` of `total` as a share, 0 when `total` is 0.
double share(std::size_t count, std::size_t total) noexcept;

}  // namespace dermlens::cli
