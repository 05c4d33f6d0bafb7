// dermlens::Diagnosis — one image's answer and its evidence (paper 000 sections 3.1-3.4):
// the candidates the VLM chose among with probe / VLM / fused probabilities, the differential,
// the final diagnosis with its malignancy and taxonomy path or the reason it abstained, the
// description the model gave first, its free answer, the clinical context it was told, the
// attention maps when asked, and the timings. to_json() gives exactly the one-image object of
// docs/diagnose-json.md that `dermlens diagnose --json` prints.
#pragma once

#include "dermlens/quality.h"

#include <nlohmann/json.hpp>

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace dermlens {

// Optional clinical context for the prompt: paper 004's benchmark-to-bedside gap is partly
// the context a clinician has and an image lacks.
struct ClinicalContext {
    std::optional<int> age;          // years, 0..120
    std::string sex;                 // "female" | "male" | "other" (any case), or empty
    std::string site;                // body site of the lesion, free text
    std::string history;             // free text
    std::optional<int> fitzpatrick;  // skin type 1..6

    bool empty() const;

    // Throws Error(InvalidArgument) naming the field and the value: age outside 0..120,
    // Fitzpatrick type outside 1..6, another sex, or site / history longer than 200
    // characters or holding control characters (a line break would reshape the prompt).
    void validate() const;

    // One line for the prompt, e.g. "Patient: 54-year-old female; site: back; history:
    // itching for two months; Fitzpatrick skin type III." Empty when empty().
    std::string text() const;
};

struct CandidateScore {
    std::string label;            // as the label set names it
    std::string condition;        // knowledge-base condition id
    std::optional<double> probe;  // the probe's probability, renormalised over the candidates
    double vlm = 0;               // the VLM's, over the candidates (the not-sure option excluded)
    double fused = 0;             // what decides: probe and VLM fused, or the VLM's without a fusion weight
};

struct FinalDiagnosis {
    std::string label;
    std::string condition;
    std::string name;                        // the condition's canonical name
    std::vector<std::string> taxonomy_path;  // condition ids, root first
    std::string malignancy;                  // benign | malignant | precancerous | ... ("" when unknown)
    double probability = 0;                  // fused
};

struct DiagnosisTimings {
    double encode_ms = 0;    // the encoding's (0 when it came from the embedding cache)
    double describe_ms = 0;  // describe-then-decide: the description turn
    double decide_ms = 0;    // the scoring step or the free answer
    double total_ms = 0;     // this call (encoding excluded)
    int prompt_tokens = 0;   // of the deciding step
    int reused_tokens = 0;   // of those, served from the KV cache
    int generated_tokens = 0;
};

// The image a diagnosis is about.
struct ImageInfo {
    std::string name;    // as given: a path, a manifest's image field, an upload's name
    std::string sha256;  // of its bytes: the embedding cache's key
    int width = 0;       // as decoded, orientation applied, before the encoder's own resizing (0: not decoded)
    int height = 0;
    bool from_cache = false;  // the encoding came from the embedding cache or a concurrent call (this call did not encode it)
};

// One of paper 000's attention maps over the image tokens: m_label (the steps that chose the
// diagnosis) or m_all (the whole response), rows x columns of the encoder's token grid.
struct AttentionMap {
    std::string name;  // "label" | "all"
    int rows = 0;
    int columns = 0;
    std::vector<float> values;  // row-major attention probabilities (not renormalised: their sum is the image's share)
};

struct Diagnosis {
    ImageInfo image;
    std::vector<CandidateScore> candidates;  // in the order the prompt showed them
    std::vector<std::size_t> differential;   // indices into candidates, most probable (fused) first
    std::optional<FinalDiagnosis> final;     // empty when abstained or the free answer was unparseable
    bool abstained = false;
    std::string abstain_reason;
    std::optional<double> not_sure_probability;  // the VLM's, when the option was offered
    std::string description;  // describe-then-decide: the description as generated
    std::string answer;       // a free answer (decide "generate") as generated
    ClinicalContext context;
    std::vector<AttentionMap> attention;  // with attention requested: m_label (when diagnosed), m_all
    DiagnosisTimings timings;
    // The image-quality gate's report (dermlens/quality.h), when the caller ran it
    // (`diagnose` does unless --quality off); to_json() prints it as "quality".
    std::optional<QualityReport> quality;

    // The rest of the report (settings, parsed description, grounding statistics, files
    // written) that to_json() prints; shared between copies.
    struct Details;
    std::shared_ptr<const Details> details;
};

// The one-image object of docs/diagnose-json.md.
nlohmann::ordered_json to_json(const Diagnosis & diagnosis);
// Several lines for a person: the image, the diagnosis or abstention, the differential, the
// description, the answer, the context and the timings.
std::string to_text(const Diagnosis & diagnosis);

}  // namespace dermlens
