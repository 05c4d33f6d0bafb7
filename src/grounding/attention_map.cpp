#include "grounding/attention_map.h"

#include "dermlens/error.h"

#include <fmt/format.h>

#include <algorithm>

namespace dermlens::grounding {

const char * head_reduction_name(HeadReduction reduction) noexcept {
    return reduction == HeadReduction::Mean ? "mean" : "max";
}

HeadReduction parse_head_reduction(const std::string & text) {
    if (text == "mean") return HeadReduction::Mean;
    if (text == "max") return HeadReduction::Max;
    throw Error(ErrorKind::InvalidArgument, fmt::format("attention reduction must be mean or max (got '{}')", text));
}

void AttentionReduction::validate() const {
    if (first_layer < 0) {
        throw Error(ErrorKind::InvalidArgument, fmt::format("first attention layer must be 0 or more (got {})", first_layer));
    }
    if (last_layer != -1 && last_layer < first_layer) {
        throw Error(ErrorKind::InvalidArgument,
                    fmt::format("attention layers {}..{}: the last comes before the first", first_layer, last_layer));
    }
}

void AttentionReduction::check_layers(int n_layers) const {
    validate();
    const int last = last_layer < 0 ? n_layers - 1 : last_layer;
    if (first_layer >= n_layers || last >= n_layers) {
        throw Error(ErrorKind::InvalidArgument, fmt::format("attention layers {}..{} do not exist: the model has {} "
                                                            "(0..{})",
                                                            first_layer, last, n_layers, n_layers - 1));
    }
}

namespace {

// Combines `value` into `into`, the `count`-th value (from 0) combined there.
void combine(float & into, float value, int count, HeadReduction reduction) {
    if (reduction == HeadReduction::Max) {
        into = count == 0 ? value : std::max(into, value);
    } else {
        into += value;
    }
}

}  // namespace

std::vector<float> image_row(const model::AttentionStep & step, const AttentionReduction & reduction) {
    reduction.check_layers(step.n_layers);
    if (step.image_begin < 0 || step.image_tokens <= 0 || step.image_begin + step.image_tokens > step.n_keys) {
        throw Error(ErrorKind::InvalidArgument,
                    fmt::format("the image block (cells {}..{}) lies outside the {} keys of the step", step.image_begin,
                                step.image_begin + step.image_tokens - 1, step.n_keys));
    }
    const int last = reduction.last_layer < 0 ? step.n_layers - 1 : reduction.last_layer;
    const auto width = static_cast<std::size_t>(step.image_tokens);
    std::vector<float> row(width, 0.0f);
    std::vector<float> layer_row(width);
    int layers = 0;
    for (int layer = reduction.first_layer; layer <= last; ++layer, ++layers) {
        std::fill(layer_row.begin(), layer_row.end(), 0.0f);
        for (int head = 0; head < step.n_heads; ++head) {
            const float * keys = step.row(layer, head) + step.image_begin;
            for (std::size_t j = 0; j < width; ++j) {
                combine(layer_row[j], keys[j], head, reduction.reduction);
            }
        }
        for (std::size_t j = 0; j < width; ++j) {
            const float per_layer = reduction.reduction == HeadReduction::Mean
                                        ? layer_row[j] / static_cast<float>(step.n_heads)
                                        : layer_row[j];
            combine(row[j], per_layer, layers, reduction.reduction);
        }
    }
    if (reduction.reduction == HeadReduction::Mean) {
        for (float & v : row) {
            v /= static_cast<float>(layers);
        }
    }
    return row;
}

std::vector<float> mean_of_rows(const std::vector<std::vector<float>> & rows, const std::vector<std::size_t> & steps) {
    if (steps.empty()) {
        throw Error(ErrorKind::InvalidArgument, "no attention steps to average");
    }
    std::vector<double> sum;
    for (const std::size_t step : steps) {
        if (step >= rows.size()) {
            throw Error(ErrorKind::InvalidArgument,
                        fmt::format("attention step {} was not captured ({} steps)", step, rows.size()));
        }
        const auto & row = rows[step];
        if (sum.empty()) {
            sum.assign(row.size(), 0.0);
        } else if (row.size() != sum.size()) {
            throw Error(ErrorKind::InvalidArgument, "attention rows of different lengths cannot be averaged");
        }
        for (std::size_t j = 0; j < row.size(); ++j) {
            sum[j] += row[j];
        }
    }
    std::vector<float> mean(sum.size());
    for (std::size_t j = 0; j < sum.size(); ++j) {
        mean[j] = static_cast<float>(sum[j] / static_cast<double>(steps.size()));
    }
    return mean;
}

AttentionRecorder::AttentionRecorder(AttentionReduction reduction, bool keep_steps)
    : reduction_(reduction), keep_steps_(keep_steps) {
    reduction_.validate();
}

void AttentionRecorder::observe(const model::AttentionStep & step) {
    rows_.push_back(image_row(step, reduction_));
    if (keep_steps_) {
        steps_.push_back(step);
    }
}

void AttentionRecorder::clear() {
    rows_.clear();
    steps_.clear();
}

}  // namespace dermlens::grounding
