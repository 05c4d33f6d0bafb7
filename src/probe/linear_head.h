// The linear probe of paper 000 (appendix C.2, table 8): a softmax layer on frozen
// features, trained in float32 with AdamW and cross-entropy, 100 epochs, batch 128,
// the learning rate chosen from {3e-5, 3e-4, 3e-3} on a validation split.
#pragma once

#include <Eigen/Core>

#include <cstddef>
#include <cstdint>
#include <vector>

namespace dermlens::probe {

struct LinearHeadParams {
    std::size_t epochs = 100;
    std::size_t batch_size = 128;
    float weight_decay = 0.01f;  // AdamW's default (PyTorch), decoupled, on weights and bias alike
    float beta1 = 0.9f;
    float beta2 = 0.999f;
    float epsilon = 1e-8f;

    void validate() const;  // throws Error(InvalidArgument)
};

struct LinearHead {
    Eigen::MatrixXf weights;  // classes x dimension
    Eigen::VectorXf bias;

    Eigen::MatrixXf logits(const Eigen::MatrixXf & features) const;
};

// Initialises as PyTorch's nn.Linear does (weights and bias uniform on +-1/sqrt(dimension))
// from `seed`, then runs AdamW on mini-batches of the rows shuffled anew each epoch (the
// last batch may be smaller). The same seed gives the same head.
LinearHead train_linear_head(const Eigen::MatrixXf & features, const std::vector<int> & classes,
                             std::size_t n_classes, float learning_rate, const LinearHeadParams & params,
                             std::uint64_t seed);

// Mean cross-entropy of the head on labelled rows.
double cross_entropy(const LinearHead & head, const Eigen::MatrixXf & features, const std::vector<int> & classes);

std::vector<float> default_learning_rates();  // 3e-5, 3e-4, 3e-3

struct LearningRateChoice {
    std::vector<float> grid;
    std::vector<double> validation_accuracy;  // per learning rate
    std::vector<double> validation_loss;      // mean cross-entropy per learning rate
    float best = 0.0f;  // highest accuracy; ties: lower loss, then the earlier rate of the grid
    LinearHead head;    // the head trained with `best`
};

// Trains one head per learning rate (same seed, so the same initialisation and batches)
// and keeps the best on the validation rows.
LearningRateChoice choose_learning_rate(const Eigen::MatrixXf & train_features, const std::vector<int> & train_classes,
                                        const Eigen::MatrixXf & val_features, const std::vector<int> & val_classes,
                                        std::size_t n_classes, const std::vector<float> & grid,
                                        const LinearHeadParams & params, std::uint64_t seed);

}  // namespace dermlens::probe
