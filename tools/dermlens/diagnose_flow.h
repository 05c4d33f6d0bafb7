// The diagnosis flow shared by `diagnose` and `demo`: runtime options declared
// once, one loaded model, images diagnosed one after another, each failure
// reported without stopping the others.
#pragma once

#include "model/vlm.h"
#include "pipeline/diagnosis.h"
#include "pipeline/direct.h"

#include <CLI/CLI.hpp>

#include <filesystem>
#include <functional>
#include <string>
#include <vector>

namespace dermlens::cli {

struct RuntimeOptions {
    int threads = 0;  // set to the machine's core count by add_runtime_options
    int context_size = 4096;
    int batch_size = 512;
    int max_tokens = 32;
    unsigned seed = 0;
    std::string flash_attention = "auto";
    std::string vision_flash_attention = "off";
    double max_megapixels = 100.0;
    bool json = false;
    bool verbose = false;

    // Validated model parameters for these options (throws Error(InvalidArgument)).
    model::VlmParams vlm_params(const std::filesystem::path & model, const std::filesystem::path & mmproj) const;
};

void add_runtime_options(CLI::App & app, RuntimeOptions & options);

// Decodes and diagnoses one image file; decoding errors throw Error(InvalidInput) naming it.
pipeline::Diagnosis diagnose_file(pipeline::DirectDiagnoser & diagnoser, const std::filesystem::path & image,
                                  double max_megapixels);

using DiagnoseOne = std::function<pipeline::Diagnosis(const std::filesystem::path &)>;

// Diagnoses each image, catching dermlens::Error per image, and prints the outcomes as text (as
// they come) or as one JSON array (at the end). A non-empty `notice` heads the text and is added
// to every JSON object. Returns the exit code: 0 when all succeeded, the error's code when the
// only image failed, 1 when some of several failed.
int diagnose_and_print(const std::vector<std::filesystem::path> & images, const DiagnoseOne & diagnose_one,
                       bool json, const std::string & notice);

}  // namespace dermlens::cli
