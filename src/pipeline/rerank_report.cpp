#include "pipeline/rerank_report.h"

#include "probe/candidates.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cmath>
#include <vector>

namespace dermlens::pipeline {
namespace {

using json = nlohmann::ordered_json;

// Milliseconds to 0.01: enough for reading, stable to diff.
double rounded_ms(double ms) {
    return std::round(ms * 100.0) / 100.0;
}

json optional_number(const std::optional<double> & value) {
    return value ? json(*value) : json(nullptr);
}

// Where the options came from: the whole label set, or the probe's top-k / conformal set.
const char * candidates_from(const RerankParams & params) {
    return strategy_parts(params.strategy).probe_candidates ? probe::candidate_mode_name(params.candidates.mode)
                                                            : "labels";
}

json conformal_json(const std::optional<SetGuarantee> & conformal) {
    if (!conformal) {
        return nullptr;
    }
    return {{"score", conformal->score},
            {"alpha", conformal->alpha},
            {"coverage", 1.0 - conformal->alpha},
            {"calibration", conformal->per_class ? "per-class" : "marginal"},
            {"calibration_rows", conformal->calibration_rows},
            {"set_size", conformal->set_size},
            {"guarantee", conformal->text}};
}

json final_json(const FinalDiagnosis & final) {
    return {{"label", final.label},
            {"condition", final.condition},
            {"name", final.name},
            {"taxonomy_path", final.taxonomy_path},
            {"malignancy", final.malignancy.empty() ? json(nullptr) : json(final.malignancy)},
            {"probability", final.probability}};
}

json context_json(const ClinicalContext & context) {
    if (context.empty()) {
        return nullptr;
    }
    json out = json::object();
    if (context.age) out["age"] = *context.age;
    if (!context.sex.empty()) out["sex"] = context.sex;
    if (!context.site.empty()) out["site"] = context.site;
    if (!context.history.empty()) out["history"] = context.history;
    if (context.fitzpatrick) out["fitzpatrick"] = *context.fitzpatrick;
    out["prompt_text"] = context.text();
    return out;
}

json description_json(const RerankResult & result) {
    if (!result.description) {
        return nullptr;
    }
    return {{"schema", schema_name(result.description->schema)},
            {"fields", to_json(*result.description)},
            {"raw_text", result.description_text}};
}

bool chose_not_sure(const RerankResult & result) {
    return result.parsed && result.parsed->index && *result.parsed->index >= result.candidates.size();
}

json answer_json(const RerankResult & result) {
    if (!result.parsed) {
        return nullptr;
    }
    const ParsedChoice & parsed = *result.parsed;
    const bool candidate = parsed.index && *parsed.index < result.candidates.size();
    return {{"raw_text", result.answer_text},
            {"parse_status", choice_status_name(parsed.status)},
            {"marker", parsed.index ? json(result.markers[*parsed.index]) : json(nullptr)},
            {"label", candidate ? json(result.candidates[*parsed.index].label) : json(nullptr)},
            {"not_sure", chose_not_sure(result)},
            {"problem", parsed.problem.empty() ? json(nullptr) : json(parsed.problem)}};
}

json timings_json(const RerankTimings & t) {
    return {{"encode_ms", rounded_ms(t.encode_ms)},
            {"describe_ms", rounded_ms(t.describe_ms)},
            {"decide_ms", rounded_ms(t.decide_ms)},
            {"total_ms", rounded_ms(t.total_ms)},
            {"prompt_tokens", t.prompt_tokens},
            {"reused_tokens", t.reused_tokens},
            {"generated_tokens", t.generated_tokens}};
}

// The model's text as a JSON string: escapes line breaks, and a token that ended inside a
// UTF-8 sequence shows as U+FFFD instead of failing.
std::string quoted(const std::string & text) {
    return json(text).dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string percent(double probability) {
    return fmt::format("{:.1f} %", probability * 100.0);
}

std::string probe_cell(const std::optional<double> & probability) {
    return probability ? fmt::format("{:.3f}", *probability) : std::string("-");
}

}  // namespace

json to_json(const RerankResult & result) {
    const RerankParams & params = result.params;
    json candidates = json::array();
    for (std::size_t i = 0; i < result.candidates.size(); ++i) {
        const CandidateScore & c = result.candidates[i];
        candidates.push_back({{"marker", result.markers[i]},
                              {"label", c.label},
                              {"condition", c.condition},
                              {"probe", optional_number(c.probe)},
                              {"vlm", c.vlm},
                              {"fused", c.fused}});
    }
    json differential = json::array();
    for (const std::size_t i : result.differential) {
        const CandidateScore & c = result.candidates[i];
        differential.push_back({{"marker", result.markers[i]}, {"label", c.label}, {"probability", c.fused}});
    }
    return {{"strategy", strategy_name(params.strategy)},
            {"style", style_name(params.style)},
            {"schema", schema_name(params.schema)},
            {"decide", decide_mode_name(params.decide)},
            {"candidates_from", candidates_from(params)},
            {"conformal_set", conformal_json(result.conformal)},
            {"candidates", candidates},
            {"differential", differential},
            {"final_diagnosis", result.final ? final_json(*result.final) : json(nullptr)},
            {"abstained", result.abstained},
            {"abstain_reason", result.abstained ? json(result.abstain_reason) : json(nullptr)},
            {"not_sure_probability", optional_number(result.not_sure_probability)},
            {"fusion_weight", optional_number(result.fusion_weight)},
            {"description", description_json(result)},
            {"answer", answer_json(result)},
            {"clinical_context", context_json(result.context)},
            {"timings", timings_json(result.timings)}};
}

std::string to_text(const RerankResult & result) {
    std::string out;
    const auto line = [&out](std::string_view name, const std::string & text) {
        out += fmt::format("  {:<13} {}\n", name, text);
    };
    if (result.final) {
        const FinalDiagnosis & f = *result.final;
        const std::string named = f.name == f.label ? f.label : fmt::format("{} ({})", f.label, f.name);
        line("diagnosis:", fmt::format("{} {}, {}", named, percent(f.probability),
                                       f.malignancy.empty() ? std::string("malignancy unknown") : f.malignancy));
        line("taxonomy:", fmt::format("{}", fmt::join(f.taxonomy_path, " > ")));
    } else if (result.abstained) {
        line("diagnosis:", fmt::format("none: abstained ({})", result.abstain_reason));
    } else {
        line("diagnosis:", fmt::format("none: the answer is unparseable ({})",
                                       result.parsed ? result.parsed->problem : std::string("no answer")));
    }
    line("differential:", fmt::format("{:8}{:<28} {:>6} {:>6} {:>6}", "", "label", "probe", "vlm", "fused"));
    for (std::size_t rank = 0; rank < result.differential.size(); ++rank) {
        const std::size_t i = result.differential[rank];
        const CandidateScore & c = result.candidates[i];
        line("", fmt::format("{:>2}. ({}) {:<28} {:>6} {:>6.3f} {:>6.3f}", rank + 1, result.markers[i], c.label,
                             probe_cell(c.probe), c.vlm, c.fused));
    }
    if (result.not_sure_probability) {
        line("not sure:", percent(*result.not_sure_probability));
    }
    line("fusion:", result.fusion_weight ? fmt::format("probe weight {:g}", *result.fusion_weight)
                                         : std::string("none (the VLM's probabilities decide)"));
    if (result.description) {
        for (const auto & [field, value] : result.description->fields) {
            line(field == result.description->fields.front().first ? "description:" : "",
                 fmt::format("{}: {}", field, value));
        }
    }
    if (result.parsed) {
        line("answer:", fmt::format("{} ({})", quoted(result.answer_text), choice_status_name(result.parsed->status)));
    }
    if (!result.context.empty()) {
        line("context:", result.context.text());
    }
    const RerankParams & params = result.params;
    if (result.conformal) {
        line("candidates:", fmt::format("conformal set of {} classes: {}", result.conformal->set_size,
                                        result.conformal->text));
    }
    line("strategy:", fmt::format("{}, style {}, decide {}, candidates from {}", strategy_name(params.strategy),
                                  style_name(params.style), decide_mode_name(params.decide), candidates_from(params)));
    const RerankTimings & t = result.timings;
    line("timing:", fmt::format("encode {:.0f} ms | describe {:.0f} ms | decide {:.0f} ms | total {:.0f} ms | prompt {} "
                                "tokens ({} reused) | generated {} tokens",
                                t.encode_ms, t.describe_ms, t.decide_ms, t.total_ms, t.prompt_tokens, t.reused_tokens,
                                t.generated_tokens));
    return out;
}

}  // namespace dermlens::pipeline
