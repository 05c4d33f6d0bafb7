// Harness: the JSON Lines files `dermlens reward score` reads (src/rewards/jsonl.h): items, as
// themselves or as rows of `train-data export` (VERL, TRL, EasyR1), and completions (strings,
// chat message lists, {"completion": ..., "item": N}), then each completion scored against its
// item as the command does. The first byte picks the reward and the group size; the rest is the
// items file, "--next-file--", the completions file.
#include "fuzz_kb.h"
#include "fuzz_support.h"

#include "dermlens/rewards.h"
#include "rewards/jsonl.h"

#include <array>

namespace {

constexpr std::array<std::string_view, 3> kRewards{"skinr1", "skinflow-topk", "skinflow-caption"};
constexpr std::size_t kMostScored = 64;  // enough to reach every reader; bounded so an input stays fast

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t * data, std::size_t size) {
    if (size == 0) {
        return 0;
    }
    const std::string_view reward = kRewards[data[0] % kRewards.size()];
    const std::size_t group_size = 1 + (data[0] >> 2) % 8;
    const auto parts = dermlens::fuzz::split_parts(dermlens::fuzz::as_text(data + 1, size - 1), "--next-file--");
    const auto items_file = dermlens::fuzz::write_scratch("items.jsonl", parts[0]);
    const auto completions_file = dermlens::fuzz::write_scratch("completions.jsonl", parts.size() > 1 ? parts[1] : "");
    dermlens::fuzz::expect_only_dermlens_errors([&] {
        const auto items = dermlens::rewards::read_items(items_file);
        const auto completions = dermlens::rewards::read_completions(completions_file, items.size(), group_size);
        for (std::size_t i = 0; i < completions.size() && i < kMostScored; ++i) {
            if (completions[i].item >= items.size()) {
                std::abort();  // read_completions refuses a completion of no item
            }
            (void)dermlens::rewards::score(dermlens::fuzz::shipped_kb(), reward, completions[i].text,
                                           items[completions[i].item]);
        }
    });
    return 0;
}
