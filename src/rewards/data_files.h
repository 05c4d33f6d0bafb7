// The rewards' data files under <data_dir()>/rewards/ (docs/rewards.md): the SkinFlow top-K
// position weights and caption field weights, and the judge-free caption matching's word lists.
// Each file is read once per data folder and kept: a trainer scores many completions per second.
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

namespace dermlens::rewards {

std::vector<double> shipped_position_weights();            // rewards/skinflow-topk.json "weights"
std::map<std::string, double> shipped_caption_weights();   // rewards/caption-weights.json "weights"
const std::set<std::string> & caption_stopwords();         // rewards/caption-matching.json "stopwords"

}  // namespace dermlens::rewards
