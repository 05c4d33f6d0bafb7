// SkinFlow's caption reward (paper 003 eq. 6): R = sum_i a_i s_i over the 12-field caption schema
// (appendix A), s_i in 0..10 per field from a judge model or, without one, from field matching.
#include "dermlens/error.h"
#include "dermlens/rewards.h"
#include "kb/names.h"
#include "pipeline/data_files.h"
#include "pipeline/description.h"
#include "rewards/data_files.h"
#include "rewards/item_fields.h"

#include <fmt/format.h>

#include <cmath>
#include <optional>
#include <set>
#include <sstream>

namespace dermlens::rewards {
namespace {

constexpr double kMaxFieldScore = 10;
constexpr double kAcceptableScore = 6;  // "scores >= 6 considered acceptable"

const std::vector<std::string> & schema_fields() {
    return pipeline::description_fields(pipeline::DescriptionSchema::SkinFlow);
}

using Caption = std::map<std::string, std::string>;

// The schema's fields of a JSON object of strings (an absent field reads as ""); none when `json`
// is not such an object.
std::optional<Caption> caption_fields(const nlohmann::json & json) {
    if (!json.is_object()) {
        return std::nullopt;
    }
    Caption caption;
    for (const auto & field : schema_fields()) {
        const auto it = json.find(field);
        if (it == json.end()) {
            caption[field] = "";
        } else if (it->is_string()) {
            caption[field] = it->get<std::string>();
        } else {
            return std::nullopt;
        }
    }
    return caption;
}

bool blank(const std::string & text) {
    return text.find_first_not_of(" \t\r\n") == std::string::npos;
}

// The field's content words: the knowledge base's name normalisation (case, punctuation, British
// spelling), each word singular, function words dropped.
std::set<std::string> content_words(const std::string & text) {
    const auto & stopwords = caption_stopwords();
    std::set<std::string> words;
    std::istringstream in(kb::normalize_name(text));
    for (std::string word; in >> word;) {
        if (!stopwords.contains(word)) {
            words.insert(kb::singularize(word));
        }
    }
    return words;
}

// Judge-free s_i: 10 x the F1 of the two fields' content-word sets.
double matching_score(const std::string & predicted, const std::string & reference) {
    const auto p = content_words(predicted);
    const auto r = content_words(reference);
    std::size_t common = 0;
    for (const auto & word : p) {
        common += r.contains(word) ? 1 : 0;
    }
    if (common == 0) {
        return 0;
    }
    return kMaxFieldScore * 2.0 * static_cast<double>(common) / static_cast<double>(p.size() + r.size());
}

// The judge's s_i for `fields`, one call: the prompt shows both captions, the grammar forces
// {"color": 0-10, ...} over the whole schema.
std::map<std::string, double> judged_scores(const TextGenerator & judge, const Caption & predicted,
                                            const Caption & reference) {
    const auto as_json = [](const Caption & caption) {
        nlohmann::ordered_json json;
        for (const auto & field : schema_fields()) {
            json[field] = caption.at(field);
        }
        return json.dump();
    };
    std::string prompt = pipeline::read_prompt("caption-judge");
    for (const auto & [placeholder, value] :
         {std::pair{std::string("{reference}"), as_json(reference)}, std::pair{std::string("{prediction}"), as_json(predicted)}}) {
        const auto at = prompt.find(placeholder);
        if (at == std::string::npos) {
            throw Error(ErrorKind::InvalidInput, fmt::format("prompt 'caption-judge': no {} placeholder", placeholder));
        }
        prompt.replace(at, placeholder.size(), value);
    }
    const std::string reply = judge(prompt, pipeline::read_grammar("caption-judge"));
    const auto json = nlohmann::json::parse(reply, nullptr, /*allow_exceptions=*/false);
    std::map<std::string, double> scores;
    for (const auto & field : schema_fields()) {
        const bool valid = json.is_object() && json.contains(field) && json[field].is_number() &&
                           json[field].get<double>() >= 0 && json[field].get<double>() <= kMaxFieldScore;
        if (!valid) {
            throw Error(ErrorKind::Runtime,
                        fmt::format("caption judge: its reply has no score 0-10 for \"{}\": {}", field, reply.substr(0, 200)));
        }
        scores[field] = json[field].get<double>();
    }
    return scores;
}

}  // namespace

void CaptionParams::validate() const {
    if (!(reference_empty_score >= 0 && reference_empty_score <= kMaxFieldScore)) {
        throw Error(ErrorKind::InvalidArgument,
                    fmt::format("reference_empty_score {}: must be in [0, 10]", reference_empty_score),
                    "reference_empty_score");
    }
    if (weights.empty()) {
        return;
    }
    double sum = 0;
    for (const auto & [field, weight] : weights) {
        if (std::find(schema_fields().begin(), schema_fields().end(), field) == schema_fields().end()) {
            throw Error(ErrorKind::InvalidArgument, fmt::format("weights: '{}' is no field of the caption schema", field),
                        "weights");
        }
        if (!(weight >= 0)) {
            throw Error(ErrorKind::InvalidArgument, fmt::format("weights: '{}' = {}: must be >= 0", field, weight),
                        "weights");
        }
        sum += weight;
    }
    if (std::abs(sum - 1.0) > 1e-6) {
        throw Error(ErrorKind::InvalidArgument, fmt::format("weights: they sum to {}, not 1", sum), "weights");
    }
}

nlohmann::json caption_item(const nlohmann::json & reference) {
    const auto caption = caption_fields(reference);
    if (!caption) {
        throw Error(ErrorKind::InvalidArgument, "reference: must be a JSON object of strings (the caption schema)",
                    "reference");
    }
    if (std::all_of(caption->begin(), caption->end(), [](const auto & field) { return blank(field.second); })) {
        throw Error(ErrorKind::InvalidArgument, "reference: every field of the caption is empty", "reference");
    }
    nlohmann::ordered_json fields;
    for (const auto & field : schema_fields()) {
        fields[field] = caption->at(field);
    }
    return {{"task", "caption"}, {"reference", fields}};
}

RewardScore score_skinflow_caption(std::string_view completion, const nlohmann::json & item,
                                   const CaptionParams & params, const TextGenerator * judge) {
    params.validate();
    CaptionParams checked{params.weights.empty() ? shipped_caption_weights() : params.weights};
    checked.validate();
    nlohmann::json storage;
    const nlohmann::json & fields = item_object(item, storage);
    const auto reference = fields.contains("reference") ? caption_fields(fields["reference"]) : std::nullopt;
    if (!reference) {
        throw Error(ErrorKind::InvalidArgument, "item.reference: must be a JSON object of strings (the caption schema)",
                    "reference");
    }

    RewardScore result;
    result.detail["judge"] = judge != nullptr ? "model" : "matching";
    result.detail["unit"] = 0.0;
    result.detail["skipped"] = nlohmann::json::array();
    const auto parsed = nlohmann::json::parse(completion, nullptr, /*allow_exceptions=*/false, /*ignore_comments=*/true);
    const auto predicted = caption_fields(parsed);
    if (!predicted) {
        result.problem = "the caption is not a JSON object of strings";
        return result;
    }

    std::map<std::string, double> scores;
    bool any_to_compare = false;
    for (const auto & field : schema_fields()) {
        const bool reference_empty = blank(reference->at(field));
        const bool predicted_empty = blank(predicted->at(field));
        if (reference_empty && predicted_empty) {
            result.detail["skipped"].push_back(field);
        } else if (predicted_empty) {
            scores[field] = 0;
        } else if (reference_empty) {
            scores[field] = params.reference_empty_score;
        } else {
            scores[field] = judge != nullptr ? -1 : matching_score(predicted->at(field), reference->at(field));
            any_to_compare = true;
        }
    }
    if (judge != nullptr && any_to_compare) {
        const auto judged = judged_scores(*judge, *predicted, *reference);
        for (auto & [field, score] : scores) {
            if (score < 0) {
                score = judged.at(field);
            }
        }
    }

    double weighted = 0;
    double total_weight = 0;
    for (auto & [field, score] : scores) {
        if (params.binarise) {
            score = score >= kAcceptableScore ? kMaxFieldScore : 0;
        }
        const auto weight = checked.weights.find(field);
        const double w = weight == checked.weights.end() ? 0 : weight->second;
        weighted += w * score;
        total_weight += w;
    }
    result.parts = scores;
    if (total_weight <= 0) {
        result.problem = "no field with a weight to score";
        return result;
    }
    result.score = weighted / total_weight;
    result.detail["unit"] = result.score / kMaxFieldScore;
    return result;
}

}  // namespace dermlens::rewards
