#include "diagnose_flow.h"

#include "common/hash.h"
#include "dermlens/error.h"
#include "image/image.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <thread>

namespace dermlens::cli {

model::VlmParams RuntimeOptions::vlm_params(const std::filesystem::path & model,
                                            const std::filesystem::path & mmproj) const {
    if (!(max_megapixels > 0)) {
        throw Error(ErrorKind::InvalidArgument, "--max-megapixels must be positive");
    }
    model::VlmParams params;
    params.model_path = model;
    params.mmproj_path = mmproj;
    params.threads = threads;
    params.context_size = context_size;
    params.batch_size = batch_size;
    params.max_tokens = max_tokens;
    params.seed = seed;
    params.text_flash_attention = model::parse_flash_attention(flash_attention);
    params.vision_flash_attention = model::parse_flash_attention(vision_flash_attention);
    params.verbose = verbose;
    params.validate();
    return params;
}

void add_runtime_options(CLI::App & app, RuntimeOptions & options) {
    options.threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    app.add_option("--threads,-t", options.threads, "CPU threads for the text model and the vision encoder")
        ->capture_default_str()
        ->envname("DERMLENS_THREADS");
    app.add_option("--ctx", options.context_size, "Context size in tokens (image tokens included)")
        ->capture_default_str()
        ->envname("DERMLENS_CTX");
    app.add_option("--batch", options.batch_size, "Logical batch size for prompt processing")
        ->capture_default_str()
        ->envname("DERMLENS_BATCH");
    app.add_option("--max-tokens", options.max_tokens, "Most tokens to generate per image")
        ->capture_default_str()
        ->envname("DERMLENS_MAX_TOKENS");
    app.add_option("--seed", options.seed, "Sampling seed (decoding is greedy: the seed does not change the answer)")
        ->capture_default_str()
        ->envname("DERMLENS_SEED");
    app.add_option("--flash-attn", options.flash_attention, "Flash attention in the text model: on, off or auto")
        ->capture_default_str()
        ->envname("DERMLENS_FLASH_ATTN");
    app.add_option("--vision-flash-attn", options.vision_flash_attention,
                   "Flash attention in the vision encoder: on, off or auto (off: much faster on CPU)")
        ->capture_default_str()
        ->envname("DERMLENS_VISION_FLASH_ATTN");
    app.add_option("--max-megapixels", options.max_megapixels, "Refuse images larger than this many megapixels")
        ->capture_default_str()
        ->envname("DERMLENS_MAX_MEGAPIXELS");
    app.add_flag("--json", options.json, "Print one JSON array with an object per image (docs/diagnose-json.md)");
    app.add_flag("--verbose", options.verbose, "Show llama.cpp's and libmtmd's logs on stderr");
}

pipeline::Diagnosis diagnose_file(pipeline::DirectDiagnoser & diagnoser, const std::filesystem::path & image,
                                  double max_megapixels) {
    const image::RgbImage rgb =
        image::load_image(image, image::DecodeLimits{static_cast<std::uint64_t>(max_megapixels * 1e6)});
    return diagnoser.diagnose({image, sha256_file(image)}, {rgb.width, rgb.height, rgb.rgb.data()});
}

int diagnose_and_print(const std::vector<std::filesystem::path> & images, const DiagnoseOne & diagnose_one,
                       bool json, const std::string & notice) {
    if (!json && !notice.empty()) {
        std::printf("%s\n\n", notice.c_str());
    }
    nlohmann::ordered_json array = nlohmann::ordered_json::array();
    int failures = 0;
    int last_error_code = 0;
    for (const auto & path : images) {
        pipeline::ImageOutcome outcome{path, std::nullopt, std::nullopt};
        try {
            outcome.diagnosis = diagnose_one(path);
        } catch (const Error & e) {
            outcome.error = e;
            ++failures;
            last_error_code = e.exit_code();
            std::fprintf(stderr, "dermlens: error: %s\n", e.what());
        }
        if (json) {
            nlohmann::ordered_json object = pipeline::to_json(outcome);
            if (!notice.empty()) {
                object["notice"] = notice;
            }
            array.push_back(std::move(object));
        } else {
            std::printf("%s\n", pipeline::to_text(outcome).c_str());
            std::fflush(stdout);
        }
    }
    if (json) {
        std::printf("%s\n", array.dump(2).c_str());
    }
    if (failures == 0) {
        return 0;
    }
    return images.size() == 1 ? last_error_code : 1;
}

}  // namespace dermlens::cli
