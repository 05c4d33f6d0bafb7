#include "probe/linear_head.h"

#include "dermlens/error.h"
#include "metrics/metrics.h"
#include "common/random.h"

#include <fmt/format.h>

#include <cmath>
#include <numeric>
#include <random>

namespace dermlens::probe {
namespace {

// Row-wise softmax of float logits, in place.
void softmax_rows(Eigen::MatrixXf & logits) {
    for (Eigen::Index i = 0; i < logits.rows(); ++i) {
        const float top = logits.row(i).maxCoeff();
        logits.row(i).array() = (logits.row(i).array() - top).exp();
        logits.row(i) /= logits.row(i).sum();
    }
}

// Adam moments of one parameter block.
struct Moments {
    Eigen::ArrayXXf first;
    Eigen::ArrayXXf second;
};

}  // namespace

void LinearHeadParams::validate() const {
    if (epochs == 0 || batch_size == 0) {
        throw Error(ErrorKind::InvalidArgument,
                    fmt::format("linear head: epochs ({}) and batch size ({}) must be positive", epochs, batch_size));
    }
    if (!(weight_decay >= 0.0f) || !(beta1 >= 0.0f && beta1 < 1.0f) || !(beta2 >= 0.0f && beta2 < 1.0f) ||
        !(epsilon > 0.0f)) {
        throw Error(ErrorKind::InvalidArgument,
                    fmt::format("linear head: AdamW weight decay {} >= 0, betas {} and {} in [0, 1), epsilon {} > 0 "
                                "required",
                                weight_decay, beta1, beta2, epsilon));
    }
}

Eigen::MatrixXf LinearHead::logits(const Eigen::MatrixXf & features) const {
    Eigen::MatrixXf z = features * weights.transpose();
    z.rowwise() += bias.transpose();
    return z;
}

LinearHead train_linear_head(const Eigen::MatrixXf & features, const std::vector<int> & classes,
                             std::size_t n_classes, float learning_rate, const LinearHeadParams & params,
                             std::uint64_t seed) {
    params.validate();
    const Eigen::Index n = features.rows();
    const Eigen::Index d = features.cols();
    const auto k = static_cast<Eigen::Index>(n_classes);
    if (n == 0 || static_cast<std::size_t>(n) != classes.size()) {
        throw Error(ErrorKind::InvalidInput, fmt::format("linear head: {} feature rows for {} labels", n,
                                                         classes.size()));
    }
    if (!(learning_rate > 0.0f) || !std::isfinite(learning_rate)) {
        throw Error(ErrorKind::InvalidArgument, fmt::format("linear head: learning rate {} must be positive",
                                                            learning_rate));
    }
    for (const int c : classes) {
        if (c < 0 || c >= k) {
            throw Error(ErrorKind::InvalidInput, fmt::format("linear head: class {} of {}", c, n_classes));
        }
    }
    std::mt19937_64 rng(seed);
    const double bound = 1.0 / std::sqrt(static_cast<double>(d));
    LinearHead head;
    head.weights.resize(k, d);
    head.bias.resize(k);
    for (Eigen::Index j = 0; j < d; ++j) {  // column by column: a fixed draw order
        for (Eigen::Index c = 0; c < k; ++c) {
            head.weights(c, j) = static_cast<float>((2.0 * uniform_unit(rng) - 1.0) * bound);
        }
    }
    for (Eigen::Index c = 0; c < k; ++c) {
        head.bias(c) = static_cast<float>((2.0 * uniform_unit(rng) - 1.0) * bound);
    }
    Moments w_moments{Eigen::ArrayXXf::Zero(k, d), Eigen::ArrayXXf::Zero(k, d)};
    Moments b_moments{Eigen::ArrayXXf::Zero(k, 1), Eigen::ArrayXXf::Zero(k, 1)};
    std::vector<Eigen::Index> order(static_cast<std::size_t>(n));
    std::iota(order.begin(), order.end(), Eigen::Index{0});
    const auto batch = static_cast<Eigen::Index>(params.batch_size);
    Eigen::MatrixXf batch_x;
    Eigen::MatrixXf probabilities;
    Eigen::MatrixXf grad_w;
    Eigen::VectorXf grad_b;
    float beta1_power = 1.0f;
    float beta2_power = 1.0f;
    for (std::size_t epoch = 0; epoch < params.epochs; ++epoch) {
        shuffle(order, rng);
        for (Eigen::Index start = 0; start < n; start += batch) {
            const Eigen::Index size = std::min(batch, n - start);
            const std::vector<Eigen::Index> rows(order.begin() + start, order.begin() + start + size);
            batch_x = features(rows, Eigen::all);
            probabilities = head.logits(batch_x);
            softmax_rows(probabilities);
            for (Eigen::Index i = 0; i < size; ++i) {
                probabilities(i, classes[static_cast<std::size_t>(rows[static_cast<std::size_t>(i)])]) -= 1.0f;
            }
            probabilities /= static_cast<float>(size);  // d(mean CE)/d(logits)
            grad_w.noalias() = probabilities.transpose() * batch_x;
            grad_b = probabilities.colwise().sum().transpose();
            // AdamW (Loshchilov & Hutter; PyTorch's torch.optim.AdamW): decay, then the Adam step.
            beta1_power *= params.beta1;
            beta2_power *= params.beta2;
            const float step = learning_rate / (1.0f - beta1_power);
            const float correction2 = 1.0f - beta2_power;
            const auto update = [&](auto & parameter, const auto & gradient, Moments & moments) {
                parameter *= 1.0f - learning_rate * params.weight_decay;
                moments.first = params.beta1 * moments.first + (1.0f - params.beta1) * gradient.array();
                moments.second = params.beta2 * moments.second + (1.0f - params.beta2) * gradient.array().square();
                parameter.array() -= step * moments.first / ((moments.second / correction2).sqrt() + params.epsilon);
            };
            update(head.weights, grad_w, w_moments);
            update(head.bias, grad_b, b_moments);
        }
    }
    return head;
}

double cross_entropy(const LinearHead & head, const Eigen::MatrixXf & features, const std::vector<int> & classes) {
    const Eigen::MatrixXf z = head.logits(features);
    double total = 0.0;
    for (Eigen::Index i = 0; i < z.rows(); ++i) {
        const double top = z.row(i).maxCoeff();
        const double lse = top + std::log((z.row(i).cast<double>().array() - top).exp().sum());
        total += lse - static_cast<double>(z(i, classes[static_cast<std::size_t>(i)]));
    }
    return z.rows() == 0 ? 0.0 : total / static_cast<double>(z.rows());
}

std::vector<float> default_learning_rates() {
    return {3e-5f, 3e-4f, 3e-3f};
}

LearningRateChoice choose_learning_rate(const Eigen::MatrixXf & train_features, const std::vector<int> & train_classes,
                                        const Eigen::MatrixXf & val_features, const std::vector<int> & val_classes,
                                        std::size_t n_classes, const std::vector<float> & grid,
                                        const LinearHeadParams & params, std::uint64_t seed) {
    if (grid.empty()) {
        throw Error(ErrorKind::InvalidArgument, "linear head: the learning-rate grid is empty");
    }
    if (val_classes.empty()) {
        throw Error(ErrorKind::InvalidInput, "linear head: no validation rows to choose the learning rate on");
    }
    LearningRateChoice choice;
    choice.grid = grid;
    std::size_t best = 0;
    for (std::size_t g = 0; g < grid.size(); ++g) {
        LinearHead head = train_linear_head(train_features, train_classes, n_classes, grid[g], params, seed);
        Eigen::MatrixXf z = head.logits(val_features);
        std::vector<int> predicted(val_classes.size());
        for (Eigen::Index i = 0; i < z.rows(); ++i) {
            Eigen::Index column = 0;
            z.row(i).maxCoeff(&column);
            predicted[static_cast<std::size_t>(i)] = static_cast<int>(column);
        }
        choice.validation_accuracy.push_back(metrics::accuracy(val_classes, predicted));
        choice.validation_loss.push_back(cross_entropy(head, val_features, val_classes));
        const bool better = g == 0 || choice.validation_accuracy[g] > choice.validation_accuracy[best] ||
                            (choice.validation_accuracy[g] == choice.validation_accuracy[best] &&
                             choice.validation_loss[g] < choice.validation_loss[best]);
        if (better) {
            best = g;
            choice.head = std::move(head);
        }
    }
    choice.best = grid[best];
    return choice;
}

}  // namespace dermlens::probe
