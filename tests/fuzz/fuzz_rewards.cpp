// Harness: the rewards' readers of a completion and of its item (dermlens/rewards.h score): Skin-R1's
// tag structure and option letters (paper 002 eqs. 5-8), SkinFlow's top-K <answer> JSON graded
// through the knowledge base and the caption reward's JSON fields (paper 003 eqs. 6-8, judge-free).
// The first byte picks the reward; the rest is an item's JSON, "--completion--", the completion.
// An item that is not JSON is replaced by a sound one of the reward, and then the score must not
// throw at all ("a malformed completion never throws: it scores 0") and stays in its range.
#include "fuzz_kb.h"
#include "fuzz_support.h"

#include "dermlens/rewards.h"

#include <array>
#include <cmath>

namespace {

using nlohmann::json;
namespace rewards = dermlens::rewards;

struct Reward {
    std::string_view name;
    double highest;  // R_total of Skin-R1 is at most 2, top-K's position weight 1, the caption 10
};
constexpr std::array<Reward, 3> kRewards{{{"skinr1", 2}, {"skinflow-topk", 1}, {"skinflow-caption", 10}}};

json sound_item(std::size_t reward) {
    const auto & kb = dermlens::fuzz::shipped_kb();
    switch (reward) {
        case 0: {
            static const json item = rewards::skinr1_item(kb, "melanoma", {"melanocytic_nevus", "melanoma",
                                                                           "seborrheic_keratosis", "dermatofibroma"});
            return item;
        }
        case 1: return rewards::topk_item("mel", "ham10000");
        default: return rewards::caption_item({{"lesion_type", "papule"}, {"color", "brown"}, {"location", "back"}});
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t * data, std::size_t size) {
    if (size == 0) {
        return 0;
    }
    const std::size_t reward = data[0] % kRewards.size();
    const auto parts = dermlens::fuzz::split_parts(dermlens::fuzz::as_text(data + 1, size - 1), "--completion--");
    const std::string_view completion = parts.size() > 1 ? parts[1] : parts[0];
    json item = parts.size() > 1 ? json::parse(parts[0], nullptr, /*allow_exceptions=*/false) : json(json::value_t::discarded);
    const bool sound = item.is_discarded();
    if (sound) {
        item = sound_item(reward);
    }
    const auto & kb = dermlens::fuzz::shipped_kb();
    const auto check = [&](const rewards::RewardScore & scored) {
        if (!(scored.score >= 0 && scored.score <= kRewards[reward].highest)) {
            std::abort();  // out of range or NaN
        }
        (void)rewards::to_json(scored).dump();
    };
    if (sound) {
        check(rewards::score(kb, kRewards[reward].name, completion, item));  // must not throw
        return 0;
    }
    dermlens::fuzz::expect_only_dermlens_errors([&] { check(rewards::score(kb, kRewards[reward].name, completion, item)); });
    return 0;
}
