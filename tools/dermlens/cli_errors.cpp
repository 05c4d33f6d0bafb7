#include "cli_errors.h"

#include <algorithm>
#include <map>

namespace dermlens::cli {

int exit_code(ErrorKind kind) noexcept {
    switch (kind) {
        case ErrorKind::InvalidArgument: return 2;
        case ErrorKind::InvalidInput: return 3;
        case ErrorKind::InvalidModel: return 4;
        case ErrorKind::Runtime: return 5;
        case ErrorKind::Cancelled: return 5;  // the CLI sets no should-stop callback; a cancelled call failed to finish
    }
    return 5;
}

std::string flag_of(const std::string & field) {
    // Library parameters whose flag is not their name.
    static const std::map<std::string, std::string> kFlags = {
        {"context_size", "--ctx"},
        {"batch_size", "--batch"},
        {"embedding_cache", "--cache"},
        {"flash_attention", "--flash-attn"},
        {"vision_flash_attention", "--vision-flash-attn"},
        {"kb_overlays", "--kb"},
        {"not_sure", "--not-sure"},
        {"attention.layers", "--attention-layers"},
        {"attention.reduce", "--attention-reduce"},
        {"attention.heatmap_dir", "--heatmap"},
        {"lesion.mask_file", "--mask"},
        {"model_path", "--model"},
        {"mmproj_path", "--mmproj"},
        {"text_flash_attention", "--flash-attn"},
        {"answer_tokens", "--max-tokens"},
        {"bootstrap_resamples", "--bootstrap"},
        {"learning_rate", "--lr"},
        {"c", "--C"},
        {"text_type", "--type"},
        {"out_dir", "--out"},
    };
    if (const auto found = kFlags.find(field); found != kFlags.end()) {
        return found->second;
    }
    std::string flag = "--" + field;
    std::replace(flag.begin(), flag.end(), '_', '-');
    return flag;
}

std::string cli_message(const Error & error) {
    const std::string message = error.what();
    const std::string & field = error.field();
    if (field.empty() || message.compare(0, field.size(), field) != 0) {
        return message;
    }
    return flag_of(field) + message.substr(field.size());
}

}  // namespace dermlens::cli
