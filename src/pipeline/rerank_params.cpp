// The re-ranking parameters alone (pipeline/rerank.h): the decide mode's names and
// RerankParams::validate, apart from the Reranker so that what parses and checks a request
// (engine/request.cpp, the server's request fuzz harness) needs no model.
#include "pipeline/rerank.h"

#include "dermlens/error.h"

#include <fmt/format.h>

namespace dermlens::pipeline {

const char * decide_mode_name(DecideMode mode) noexcept {
    return mode == DecideMode::Score ? "score" : "generate";
}

DecideMode parse_decide_mode(const std::string & text) {
    if (text == "score") return DecideMode::Score;
    if (text == "generate") return DecideMode::Generate;
    throw Error(ErrorKind::InvalidArgument, fmt::format("decide must be score or generate (got '{}')", text), "decide");
}

void RerankParams::validate() const {
    candidates.validate();
    abstention.validate();
    if (!(temperature >= 0)) {
        throw Error(ErrorKind::InvalidArgument, fmt::format("temperature must be 0 or more (got {})", temperature), "temperature");
    }
    if (attention) {
        attention->validate();
    }
    if (answer_tokens <= 0) {
        throw Error(ErrorKind::InvalidArgument, fmt::format("max_tokens must be positive (got {})", answer_tokens), "max_tokens");
    }
    if (decide == DecideMode::Score && style != PromptStyle::Dermlens) {
        throw Error(ErrorKind::InvalidArgument,
                    fmt::format("decide: style '{}' asks for a free answer, decide 'generate'", style_name(style)), "decide");
    }
}

}  // namespace dermlens::pipeline
