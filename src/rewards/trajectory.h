// Skin-R1's reasoning trajectories for supervised fine-tuning (paper 002 section 3.1.2 and
// appendix B, algorithms 1-3), one image each:
//   type 1  direct: the rationale for the image's diagnosis, then the diagnosis and its taxonomy;
//   type 2  differential, no revision: the primary diagnosis (the image's truth) is compared with a
//           differential one (ResolveDDXNeighbor, else a random other diagnosis) and kept;
//   type 3  differential, reflective revision: a primary diagnosis (the truth's DDx neighbour) is
//           revised to the truth after the comparison. The image is the one whose truth is the
//           final diagnosis (papers-spec A.2: algorithm 3 read literally would train wrong labels).
// The diagnostic rules are the knowledge base's descriptions; the image-specific text (type 1's
// rationale, the comparison of types 2-3) is written by a VLM when one is given, else templated
// (the authors' own fallback comparison). Every response passes R_format with <diagnosis> as the
// answer tag. All wording lives in data/prompts/trajectory-*.txt and skin-r1-sft-*.txt.
#pragma once

#include "dermlens/kb.h"

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

namespace dermlens::rewards {

// A VLM's reply to `prompt` about the image at `image` (the CLI runs Engine::generate).
using ImageTextGenerator = std::function<std::string(const std::string & prompt, const std::filesystem::path & image)>;

// One labelled image.
struct Case {
    std::filesystem::path image;
    std::string condition;  // id
};

struct Trajectory {
    int type = 1;
    std::size_t case_index = 0;       // the case whose image is shown
    std::string prompt;               // the SFT instruction of the type
    std::string response;             // <thinking>...</thinking> <diagnosis>...</diagnosis>
    std::string final_diagnosis;      // condition id: the shown image's truth
    std::string primary, differential;  // condition ids, types 2 and 3
};

struct TrajectoryParams {
    std::uint64_t seed = 0;
    std::size_t max_differential_per_diagnosis = 3;  // types 2 and 3 each, per final diagnosis (the authors' cap)
    void validate() const;
};

// "{Dx} is a subtype of {a1}, {a2}, and {aN}, and is generally classified as malignant." — the
// authors' taxonomy sentence, ancestors nearest first, the root left out.
std::string taxonomy_sentence(const kb::KnowledgeBase & kb, const std::string & id);

// Type 1 for every case, then types 2 and 3 for up to max_differential_per_diagnosis cases per
// diagnosis (cases in an order shuffled by the seed); a diagnosis with no other diagnosis among
// the cases gets no types 2-3. Deterministic for a seed (and a deterministic `writer`).
std::vector<Trajectory> synthesize_trajectories(const kb::KnowledgeBase & kb, const std::vector<Case> & cases,
                                                const TrajectoryParams & params,
                                                const ImageTextGenerator * writer = nullptr);

}  // namespace dermlens::rewards
