// The public, model-free answer API (dermlens/answers.h) over the pipeline's parsers
// (pipeline/answer_parse.h) and the clinical grading (metrics/graded_diagnosis.h).
#include "dermlens/answers.h"

#include "dermlens/error.h"
#include "metrics/graded_diagnosis.h"
#include "pipeline/answer_parse.h"
#include "pipeline/prompt.h"

#include <fmt/format.h>

namespace dermlens {

ParsedChoice parse_choice(std::string_view reply, const std::vector<std::string> & labels, std::string_view style,
                          bool not_sure_option, const kb::KnowledgeBase * kb) {
    pipeline::PromptRequest request;
    try {
        request.style = pipeline::parse_style(style);
    } catch (const Error & e) {
        throw Error(e.kind(), fmt::format("style: {}", e.what()), "style");
    }
    request.not_sure_option = not_sure_option;
    for (const auto & label : labels) {
        request.options.push_back({label, ""});
    }
    const pipeline::PromptTurns turns = pipeline::build_prompt(request);
    const pipeline::ParsedChoice parsed = pipeline::parse_choice(reply, turns, labels, request.style, kb);
    return {pipeline::choice_status_name(parsed.status), parsed.index, parsed.answer_text, parsed.problem};
}

SkinFlowDiseases parse_skinflow_diseases(std::string_view reply) {
    pipeline::SkinFlowDiseases parsed = pipeline::parse_skinflow_diseases(reply);
    return {std::move(parsed.names), std::move(parsed.problem)};
}

GradedDiagnosis grade_diagnosis(const kb::KnowledgeBase & kb, const std::string & predicted, const std::string & truth,
                                const std::string & label_set) {
    const metrics::GradedDiagnosis graded = metrics::grade_diagnosis(kb, predicted, truth, label_set);
    return {graded.name, graded.condition, std::string(metrics::grade_name(graded.grade)), metrics::is_correct(graded.grade)};
}

}  // namespace dermlens
