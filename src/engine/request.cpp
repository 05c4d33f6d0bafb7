#include "engine/request.h"

#include "dermlens/error.h"

#include <fmt/format.h>

#include <string>
#include <utility>

namespace dermlens::engine {
namespace {

// Runs `parse` and names `field` in its error: the pipeline's parsers name the value and the
// choices, the request names where it came from.
template <typename Parse>
auto parsed(const char * field, Parse && parse) {
    try {
        return parse();
    } catch (const Error & e) {
        if (!e.field().empty()) {
            throw;
        }
        throw Error(e.kind(), fmt::format("{}: {}", field, e.what()), field);
    }
}

}  // namespace

bool wants_attention(const DiagnoseRequest & request) noexcept {
    return request.attention.enabled || !request.attention.heatmap_dir.empty() || !request.lesion.mask_file.empty() ||
           !request.lesion.box.empty();
}

std::optional<grounding::AttentionReduction> attention_reduction(const AttentionRequest & request) {
    grounding::AttentionReduction reduction;
    reduction.reduction = parsed("attention.reduce", [&] { return grounding::parse_head_reduction(request.reduce); });
    if (request.first_layer.has_value() != request.last_layer.has_value()) {
        throw Error(ErrorKind::InvalidArgument,
                    "attention.layers: give both the first and the last layer, or neither", "attention.layers");
    }
    if (request.first_layer) {
        reduction.first_layer = *request.first_layer;
        reduction.last_layer = *request.last_layer;
    }
    parsed("attention.layers", [&] {
        reduction.validate();
        return 0;
    });
    return reduction;
}

pipeline::RerankParams rerank_params(const DiagnoseRequest & request) {
    pipeline::RerankParams p;
    p.strategy = parsed("strategy", [&] { return pipeline::parse_strategy(request.strategy); });
    p.style = parsed("style", [&] { return pipeline::parse_style(request.style); });
    p.schema = parsed("schema", [&] { return pipeline::parse_schema(request.schema); });
    p.decide = parsed("decide", [&] { return pipeline::parse_decide_mode(request.decide); });
    p.candidates.mode = parsed("candidates", [&] { return probe::parse_candidate_mode(request.candidates); });
    p.candidates.top_k = request.top_k;
    if (request.alpha) {
        if (p.candidates.mode != probe::CandidateMode::Conformal) {
            throw Error(ErrorKind::InvalidArgument, "alpha only applies with conformal candidates", "alpha");
        }
        p.candidates.set.alpha = request.alpha;
    }
    p.abstention.not_sure_option = request.not_sure;
    p.abstention.threshold = request.abstain_below;
    p.shuffle_options = request.shuffle_options;
    p.seed = request.seed;
    p.temperature = request.temperature;
    p.answer_tokens = request.max_tokens;
    if (wants_attention(request)) {
        p.attention = attention_reduction(request.attention);
    }
    p.validate();
    request.context.validate();
    return p;
}

}  // namespace dermlens::engine

void dermlens::DiagnoseRequest::validate() const {
    engine::rerank_params(*this);
}
