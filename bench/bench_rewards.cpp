// Rewards of 10,000 completions on one core (docs/rewards.md "Speed"): Skin-R1's R_total,
// SkinFlow's top-K and judge-free caption rewards, and GRPO advantages, each over a varied batch
// (correct, wrong, synonyms, malformed). Prints the median of 7 rounds per reward.
#include "dermlens/rewards.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <functional>
#include <random>

namespace {

using namespace dermlens;
constexpr std::size_t kCompletions = 10000;
constexpr int kRounds = 7;

double median_ms(const std::function<double()> & round) {
    std::vector<double> times;
    double sink = 0;
    for (int i = 0; i < kRounds; ++i) {
        const auto start = std::chrono::steady_clock::now();
        sink += round();
        times.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count());
    }
    std::sort(times.begin(), times.end());
    if (sink < 0) {
        fmt::print("{}", sink);  // keeps the work observable
    }
    return times[kRounds / 2];
}

std::vector<std::string> skinr1_completions(std::mt19937_64 & rng) {
    const std::vector<std::string> answers{"A: melanoma, malignant", "B", "(C) seborrheic keratosis, benign",
                                           "malignant melanoma, malignant", "benign", "D. basal cell carcinoma, malignant",
                                           "A or B", "Basal cell epithelioma, malignant"};
    std::vector<std::string> out;
    for (std::size_t i = 0; i < kCompletions; ++i) {
        const std::string & answer = answers[rng() % answers.size()];
        std::string text = "<thinking>The lesion is asymmetric with several colours and an irregular border; a blue-white "
                           "veil and atypical network are visible.</thinking>\n<final diagnosis>" + answer + "</final diagnosis>";
        if (rng() % 10 == 0) {
            text = "Sure! " + text;  // a format failure now and then
        }
        out.push_back(std::move(text));
    }
    return out;
}

std::vector<std::string> topk_completions(std::mt19937_64 & rng) {
    const std::vector<std::string> names{"melanoma", "nevus", "seborrheic keratosis", "basal cell carcinoma",
                                         "dermatofibroma", "actinic keratosis", "malignant melanoma", "BCC",
                                         "lentigo", "squamous cell carcinoma", "psoriasis", "some rash"};
    std::vector<std::string> out;
    for (std::size_t i = 0; i < kCompletions; ++i) {
        nlohmann::json list = nlohmann::json::array();
        for (int k = 0; k < 6; ++k) {
            list.push_back({{"disease", names[rng() % names.size()]}, {"probability", 0.3},
                            {"key_matching_fields", {"color", "shape"}}, {"brief_reason", "Pigment network."}});
        }
        out.push_back("<think>Pigmented lesion with irregular border.</think>\n<answer>" +
                      nlohmann::json{{"top6_diseases", list}}.dump() + "</answer>");
    }
    return out;
}

std::vector<std::string> caption_completions(std::mt19937_64 & rng) {
    const std::vector<std::string> colours{"brown and black", "pink", "dark brown, blue-grey", "", "red"};
    std::vector<std::string> out;
    for (std::size_t i = 0; i < kCompletions; ++i) {
        out.push_back(nlohmann::json{{"color", colours[rng() % colours.size()]}, {"location", "upper back"},
                                     {"shape", "irregular oval"}, {"lesion_type", "plaque"}, {"size", "about 8 mm"},
                                     {"border_characteristics", "ill-defined, notched"}}
                          .dump());
    }
    return out;
}

}  // namespace

int main() {
    const auto kb = kb::KnowledgeBase::load({kb::KnowledgeBase::shipped_dir()});
    std::mt19937_64 rng(1);
    const auto mcq = rewards::skinr1_item(kb, "superficial_spreading_melanoma",
                                          {"melanoma", "malignant_melanocytic_lesion", "seborrheic_keratosis",
                                           "basal_cell_carcinoma"});
    const auto topk = rewards::topk_item("melanoma");
    const auto caption = rewards::caption_item({{"color", "dark brown and black"}, {"location", "back"},
                                                {"shape", "irregular"}, {"lesion_type", "plaque"},
                                                {"border_characteristics", "notched, ill-defined"}});
    const auto skinr1_texts = skinr1_completions(rng);
    const auto topk_texts = topk_completions(rng);
    const auto caption_texts = caption_completions(rng);
    std::vector<double> rewards_for_groups(kCompletions);
    for (auto & r : rewards_for_groups) {
        r = static_cast<double>(rng() % 9) / 4.0;
    }

    const auto over = [&](const std::vector<std::string> & texts, auto score) {
        return [&texts, score] {
            double sum = 0;
            for (const auto & text : texts) {
                sum += score(text);
            }
            return sum;
        };
    };
    std::setvbuf(stdout, nullptr, _IOLBF, 0);  // each figure as soon as it is measured
    fmt::print("rewards of {} completions, one core, median of {} rounds:\n", kCompletions, kRounds);
    fmt::print("  skinr1            {:8.1f} ms\n",
               median_ms(over(skinr1_texts, [&](const std::string & t) { return rewards::score_skinr1(kb, t, mcq).score; })));
    fmt::print("  skinflow-topk     {:8.1f} ms\n",
               median_ms(over(topk_texts, [&](const std::string & t) { return rewards::score_skinflow_topk(kb, t, topk).score; })));
    fmt::print("  skinflow-caption  {:8.1f} ms\n",
               median_ms(over(caption_texts, [&](const std::string & t) { return rewards::score_skinflow_caption(t, caption).score; })));
    fmt::print("  group advantages  {:8.3f} ms (K = 4)\n", median_ms([&] {
                   return rewards::group_advantages(rewards_for_groups, 4).front();
               }));
    return 0;
}
