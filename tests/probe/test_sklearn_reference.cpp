// dermlens's logistic regression, cross-validation, folds and metrics against
// scikit-learn (Debian's python3-sklearn) on the same synthetic features:
// tests/probe/sklearn_reference.py is the reference side.
#include "probe/logreg.h"
#include "metrics/metrics.h"
#include "dataset/split.h"
#include "probe/sampling.h"
#include "support/run_process.h"
#include "synthetic.h"

#include <charconv>
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <unistd.h>

#include <array>
#include <filesystem>
#include <fstream>

namespace {

namespace fs = std::filesystem;
using namespace dermlens::probe;
namespace metrics = dermlens::metrics;
using dermlens::test::gaussian_classes;
using dermlens::test::Synthetic;
using nlohmann::json;

const std::string kScript = std::string(DERMLENS_SOURCE_DIR) + "/tests/probe/sklearn_reference.py";

class SklearnReference : public testing::Test {
protected:
    void SetUp() override {
        dir_ = fs::temp_directory_path() / fmt::format("dermlens_sklearn_{}_{}", ::getpid(),
                                                       testing::UnitTest::GetInstance()->current_test_info()->name());
        fs::create_directories(dir_);
    }
    void TearDown() override { fs::remove_all(dir_); }

    // label,fold,f0,... with floats printed exactly (shortest round-trip form).
    fs::path write_data(const std::string & name, const Eigen::MatrixXf & x, const std::vector<int> & y,
                        const std::vector<int> & folds) const {
        const fs::path path = dir_ / name;
        std::ofstream out(path);
        out << "label,fold";
        for (Eigen::Index j = 0; j < x.cols(); ++j) {
            out << ",f" << j;
        }
        out << '\n';
        for (Eigen::Index i = 0; i < x.rows(); ++i) {
            out << y[static_cast<std::size_t>(i)] << ',' << (folds.empty() ? 0 : folds[static_cast<std::size_t>(i)]);
            for (Eigen::Index j = 0; j < x.cols(); ++j) {
                std::array<char, 32> buffer{};
                const auto end = std::to_chars(buffer.data(), buffer.data() + buffer.size(), x(i, j)).ptr;
                out << ',' << std::string(buffer.data(), end);
            }
            out << '\n';
        }
        return path;
    }

    static json reference(std::vector<std::string> args) {
        args.insert(args.begin(), {DERMLENS_PYTHON, kScript});
        const auto result = dermlens::test::run_process(args);
        EXPECT_EQ(result.exit_code, 0) << result.err;
        return json::parse(result.out);
    }

    fs::path dir_;
};

Eigen::MatrixXd as_matrix(const json & rows) {
    Eigen::MatrixXd m(static_cast<Eigen::Index>(rows.size()), static_cast<Eigen::Index>(rows.at(0).size()));
    for (std::size_t i = 0; i < rows.size(); ++i) {
        for (std::size_t j = 0; j < rows[i].size(); ++j) {
            m(static_cast<Eigen::Index>(i), static_cast<Eigen::Index>(j)) = rows[i][j].get<double>();
        }
    }
    return m;
}

struct TrainTest {
    Eigen::MatrixXf train_x, test_x;
    std::vector<int> train_y, test_y;
};

TrainTest split_rows(const Synthetic & data, std::size_t train) {
    TrainTest out;
    out.train_x = data.features.topRows(static_cast<Eigen::Index>(train));
    out.test_x = data.features.bottomRows(data.features.rows() - static_cast<Eigen::Index>(train));
    out.train_y.assign(data.classes.begin(), data.classes.begin() + static_cast<std::ptrdiff_t>(train));
    out.test_y.assign(data.classes.begin() + static_cast<std::ptrdiff_t>(train), data.classes.end());
    return out;
}

TEST_F(SklearnReference, LogisticRegressionMatchesAtFixedC) {
    // 4 overlapping Gaussian classes in 32 dimensions: about 80% accuracy, so probabilities are far from 0 and 1.
    const TrainTest data = split_rows(gaussian_classes(500, 32, 4, 0.3, 11), 300);
    const auto train_csv = write_data("train.csv", data.train_x, data.train_y, {});
    const auto test_csv = write_data("test.csv", data.test_x, data.test_y, {});
    for (const double c : {1e-3, 0.1, 10.0}) {
        const LogRegFit fit = fit_logreg(data.train_x.cast<double>(), data.train_y, 4, c);
        EXPECT_TRUE(fit.solver.converged) << "C " << c << ": " << fit.solver.iterations << " iterations";
        const Eigen::MatrixXd ours = fit.model.probabilities(data.test_x.cast<double>());
        const json theirs = reference({"fit", train_csv.string(), test_csv.string(), fmt::format("{}", c)});
        const Eigen::MatrixXd sk = as_matrix(theirs["test_proba"]);
        const double max_diff = (ours - sk).cwiseAbs().maxCoeff();
        const double our_accuracy = metrics::accuracy(data.test_y, metrics::argmax_rows(ours));
        const double sk_accuracy = theirs["test_accuracy"].get<double>();
        // The objective at our solution is no higher than at scikit-learn's (relative 1e-12).
        const Eigen::MatrixXd x = data.train_x.cast<double>();
        const Eigen::MatrixXd p = fit.model.probabilities(x);
        double objective = 0.5 / c * fit.model.weights.squaredNorm();
        for (std::size_t i = 0; i < data.train_y.size(); ++i) {
            objective -= std::log(p(static_cast<Eigen::Index>(i), data.train_y[i]));
        }
        const double sk_objective = theirs["objective"].get<double>();
        std::printf("C %g: max |p - p_sklearn| = %.3g, accuracy %.4f vs sklearn %.4f, objective %.12g vs sklearn "
                    "%.12g, %d L-BFGS iterations\n",
                    c, max_diff, our_accuracy, sk_accuracy, objective, sk_objective, fit.solver.iterations);
        EXPECT_LE(objective, sk_objective * (1.0 + 1e-12)) << "C " << c;
        EXPECT_LT(max_diff, 1e-5) << "C " << c;
        EXPECT_NEAR(our_accuracy, sk_accuracy, 0.01) << "C " << c;
        EXPECT_GT(our_accuracy, 0.6);
        // The weights agree too (sklearn's intercepts are those of the same unpenalised, centred optimum).
        EXPECT_LT((fit.model.weights - as_matrix(theirs["coef"])).cwiseAbs().maxCoeff(), 1e-3) << "C " << c;
    }
}

TEST_F(SklearnReference, CrossValidationChoosesTheSameC) {
    // Few rows, many dimensions and little signal: strong regularisation wins clearly.
    const TrainTest data = split_rows(gaussian_classes(400, 64, 3, 0.12, 5), 150);
    const std::vector<int> folds = stratified_folds(data.train_y, 5);
    const auto train_csv = write_data("train.csv", data.train_x, data.train_y, folds);
    const auto test_csv = write_data("test.csv", data.test_x, data.test_y, {});
    const CrossValidation cv = cross_validate_c(data.train_x.cast<double>(), data.train_y, 3, default_c_grid(), 5);
    std::vector<std::string> args = {"cv", train_csv.string(), test_csv.string()};
    for (const double c : default_c_grid()) {
        args.push_back(fmt::format("{}", c));
    }
    const json theirs = reference(args);
    EXPECT_EQ(theirs["stratified_folds"].get<std::vector<int>>(), folds);
    const auto sk_scores = theirs["mean_scores"].get<std::vector<double>>();
    ASSERT_EQ(sk_scores.size(), cv.mean_scores.size());
    double max_diff = 0.0;
    for (std::size_t g = 0; g < sk_scores.size(); ++g) {
        max_diff = std::max(max_diff, std::abs(sk_scores[g] - cv.mean_scores[g]));
        std::printf("C %g: mean macro ROC-AUC %.6f vs sklearn %.6f\n", cv.grid[g], cv.mean_scores[g], sk_scores[g]);
    }
    EXPECT_LT(max_diff, 1e-9);
    EXPECT_EQ(cv.best_c, theirs["best_C"].get<double>());
    // A clear case: the best C beats every other by a margin far above the solvers' differences.
    const auto best = static_cast<std::size_t>(std::find(cv.grid.begin(), cv.grid.end(), cv.best_c) - cv.grid.begin());
    for (std::size_t g = 0; g < cv.grid.size(); ++g) {
        if (g != best) {
            EXPECT_GT(cv.mean_scores[best] - cv.mean_scores[g], 1e-3) << "C " << cv.grid[g];
        }
    }
    // Refit on all training rows with the chosen C: the same probabilities.
    const LogRegFit refit = fit_logreg(data.train_x.cast<double>(), data.train_y, 3, cv.best_c);
    const Eigen::MatrixXd ours = refit.model.probabilities(data.test_x.cast<double>());
    EXPECT_LT((ours - as_matrix(theirs["test_proba"])).cwiseAbs().maxCoeff(), 1e-4);
}

TEST_F(SklearnReference, MetricsMatch) {
    const TrainTest data = split_rows(gaussian_classes(700, 16, 5, 0.35, 3), 200);
    const LogRegFit fit = fit_logreg(data.train_x.cast<double>(), data.train_y, 5, 1.0);
    const Eigen::MatrixXd exact = fit.model.probabilities(data.test_x.cast<double>());
    // With every other row a copy of the one before, equal scores occur in every column: ROC-AUC counts them one
    // half. (Each row's own probabilities stay distinct, so top-k ranks agree too.)
    Eigen::MatrixXd tied = exact;
    for (Eigen::Index i = 0; i + 1 < tied.rows(); i += 2) {
        tied.row(i + 1) = tied.row(i);
    }
    const Eigen::MatrixXd * const versions[] = {&exact, &tied};
    for (const Eigen::MatrixXd * proba : versions) {
        const fs::path path = dir_ / "pred.csv";
        {
            std::ofstream out(path);
            out << "label";
            for (int c = 0; c < 5; ++c) {
                out << ",p" << c;
            }
            out << '\n';
            for (Eigen::Index i = 0; i < proba->rows(); ++i) {
                out << data.test_y[static_cast<std::size_t>(i)];
                for (int c = 0; c < 5; ++c) {
                    out << ',' << fmt::format("{}", (*proba)(i, c));  // shortest round-trip form
                }
                out << '\n';
            }
        }
        const json theirs = reference({"metrics", path.string(), "2"});
        const std::vector<int> predicted = metrics::argmax_rows(*proba);
        const char * which = proba == &exact ? "distinct" : "tied";
        std::printf("%s: accuracy %.6f, macro-F1 %.6f, balanced %.6f, ROC-AUC %.6f, top-2 %.6f\n", which,
                    metrics::accuracy(data.test_y, predicted), metrics::macro_f1(data.test_y, predicted),
                    metrics::balanced_accuracy(data.test_y, predicted), metrics::roc_auc_ovr_macro(data.test_y, *proba),
                    metrics::top_k_accuracy(data.test_y, *proba, 2));
        EXPECT_NEAR(metrics::accuracy(data.test_y, predicted), theirs["accuracy"].get<double>(), 1e-12) << which;
        EXPECT_NEAR(metrics::macro_f1(data.test_y, predicted), theirs["macro_f1"].get<double>(), 1e-12) << which;
        EXPECT_NEAR(metrics::balanced_accuracy(data.test_y, predicted), theirs["balanced_accuracy"].get<double>(), 1e-12)
            << which;
        EXPECT_NEAR(metrics::roc_auc_ovr_macro(data.test_y, *proba), theirs["roc_auc"].get<double>(), 1e-12) << which;
        EXPECT_NEAR(metrics::top_k_accuracy(data.test_y, *proba, 2), theirs["top_k_accuracy"].get<double>(), 1e-12) << which;
    }
}

}  // namespace
