#include "pipeline/diagnosis.h"

#include <fmt/format.h>

#include <cmath>

namespace dermlens::pipeline {
namespace {

using json = nlohmann::ordered_json;

json file_json(const FileDigest & file) {
    return {{"path", file.path.string()}, {"sha256", file.sha256}};
}

// Milliseconds and rates to 0.01: enough for reading, stable to diff.
double rounded(double value) {
    return std::round(value * 100.0) / 100.0;
}

json timings_json(const model::Generation & generation) {
    const auto & t = generation.timings;
    return {
        {"image_encode_ms", rounded(t.image_encode_ms)},
        {"prefill_ms", rounded(t.prefill_ms)},
        {"prefill_tokens_per_s", rounded(generation.prefill_tokens_per_s())},
        {"decode_ms", rounded(t.decode_ms)},
        {"decode_tokens_per_s", rounded(generation.decode_tokens_per_s())},
        {"total_ms", rounded(t.total_ms)},
    };
}

json settings_json(const ModelSettings & s) {
    return {
        {"threads", s.threads},
        {"context_size", s.context_size},
        {"batch_size", s.batch_size},
        {"max_tokens", s.max_tokens},
        {"seed", s.seed},
        {"decoding", "greedy"},
        {"flash_attention", s.flash_attention},
        {"vision_flash_attention", s.vision_flash_attention},
    };
}

std::string option_name(std::size_t index) {
    return fmt::format("({})", static_cast<char>('A' + index));
}

}  // namespace

const char * parse_status_name(ParseStatus status) noexcept {
    switch (status) {
        case ParseStatus::Letter: return "letter";
        case ParseStatus::LabelName: return "label_name";
        case ParseStatus::Unparseable: return "unparseable";
    }
    return "unparseable";
}

ModelSettings settings_of(const model::VlmParams & params) {
    return {params.threads,
            params.context_size,
            params.batch_size,
            params.max_tokens,
            params.seed,
            model::flash_attention_name(params.text_flash_attention),
            model::flash_attention_name(params.vision_flash_attention)};
}

json to_json(const Diagnosis & d) {
    json options = json::array();
    for (std::size_t i = 0; i < d.options.size(); ++i) {
        options.push_back({{"letter", std::string(1, static_cast<char>('A' + i))}, {"label", d.options[i]}});
    }
    json answer = {{"label", nullptr}, {"letter", nullptr}, {"parse_status", parse_status_name(d.parse_status)}};
    if (d.answer_index) {
        answer["label"] = d.options[*d.answer_index];
        answer["letter"] = std::string(1, static_cast<char>('A' + *d.answer_index));
    }
    json image = file_json(d.image);
    image["width"] = d.image_width;
    image["height"] = d.image_height;
    return {
        {"image", image},
        {"model", file_json(d.model)},
        {"mmproj", file_json(d.mmproj)},
        {"strategy", d.strategy},
        {"options", options},
        {"question", d.question},
        {"answer", answer},
        {"raw_text", d.generation.text},
        {"generation",
         {{"prompt_tokens", d.generation.prompt_tokens},
          {"image_tokens", d.generation.image_tokens},
          {"generated_tokens", d.generation.tokens.size()},
          {"stop_reason", model::stop_reason_name(d.generation.stop_reason)}}},
        {"settings", settings_json(d.settings)},
        {"timings", timings_json(d.generation)},
    };
}

json to_json(const ImageOutcome & outcome) {
    if (outcome.diagnosis) {
        return to_json(*outcome.diagnosis);
    }
    return {
        {"image", {{"path", outcome.image_path.string()}}},
        {"error", {{"kind", error_kind_name(outcome.error->kind())}, {"message", outcome.error->what()}}},
    };
}

std::string to_text(const ImageOutcome & outcome) {
    if (!outcome.diagnosis) {
        return fmt::format("{}\n  error: {}\n", outcome.image_path.string(), outcome.error->what());
    }
    const Diagnosis & d = *outcome.diagnosis;
    const std::string answer = d.answer_index
                                   ? fmt::format("{} {} (read as {})", option_name(*d.answer_index),
                                                 d.options[*d.answer_index], parse_status_name(d.parse_status))
                                   : std::string("unparseable (the reply names no single option)");
    const auto & g = d.generation;
    return fmt::format(
        "{}\n"
        "  answer:  {}\n"
        "  reply:   {}\n"
        "  timing:  image encode {:.0f} ms | prefill {} tokens at {:.1f} tok/s | decode {} tokens at {:.1f} tok/s | "
        "total {:.0f} ms\n",
        d.image.path.string(), answer, json(g.text).dump(), g.timings.image_encode_ms, g.prompt_tokens,
        g.prefill_tokens_per_s(), g.tokens.size(), g.decode_tokens_per_s(), g.timings.total_ms);
}

}  // namespace dermlens::pipeline
