// Paper 000's attention vectors (section 3.2, eq. 2-4) from the rows the model captured.
//
// r(t)      the image-restricted attention row of generation step t: the decoder's attention
//           probabilities from the query of step t over the image-token block, reduced over
//           heads and layers (eq. 2; model/attention_tap.h captures them)
// m_label   the mean of r(t) over the steps that spell the predicted diagnosis (eq. 3); with
//           option scoring, the deciding step's own row
// m_all     the mean of r(t) over every step of the response (eq. 4), description included
#pragma once

#include "model/attention_tap.h"

#include <cstddef>
#include <string>
#include <vector>

namespace dermlens::grounding {

enum class HeadReduction { Mean, Max };
const char * head_reduction_name(HeadReduction reduction) noexcept;  // "mean" | "max"
HeadReduction parse_head_reduction(const std::string & text);        // throws Error(InvalidArgument)

// Which layers and how heads and layers are combined into one row per step.
struct AttentionReduction {
    int first_layer = 0;   // inclusive
    int last_layer = -1;   // inclusive; -1: the model's last layer
    HeadReduction reduction = HeadReduction::Mean;  // over heads, then over layers

    void validate() const;  // throws Error(InvalidArgument)
    // Throws Error(InvalidArgument) when the range does not fit a model of `n_layers` layers.
    void check_layers(int n_layers) const;
};

// r(t): the step's rows reduced over heads and the chosen layers, restricted to the image block.
std::vector<float> image_row(const model::AttentionStep & step, const AttentionReduction & reduction);

// The mean of `rows` at `steps` (all rows when `steps` is empty is NOT assumed: an empty
// `steps` throws Error(InvalidArgument)). Every row must have the same length.
std::vector<float> mean_of_rows(const std::vector<std::vector<float>> & rows, const std::vector<std::size_t> & steps);

// Collects r(t) for every step the model reports, in order (an AttentionObserver for Vlm).
// With `keep_steps`, the raw steps are kept too (tests recompute the vectors from them).
class AttentionRecorder : public model::AttentionObserver {
public:
    explicit AttentionRecorder(AttentionReduction reduction, bool keep_steps = false);

    void observe(const model::AttentionStep & step) override;

    const std::vector<std::vector<float>> & rows() const noexcept { return rows_; }
    const std::vector<model::AttentionStep> & steps() const noexcept { return steps_; }
    void clear();

private:
    AttentionReduction reduction_;
    bool keep_steps_;
    std::vector<std::vector<float>> rows_;
    std::vector<model::AttentionStep> steps_;
};

}  // namespace dermlens::grounding
