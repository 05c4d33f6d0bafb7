#include "probe/probe.h"

#include "common/atomic_file.h"
#include "dermlens/error.h"
#include "probe/logreg.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <map>
#include <utility>

namespace dermlens::probe {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using nlohmann::ordered_json;

[[noreturn]] void fail(const fs::path & path, const std::string & reason) {
    throw Error(ErrorKind::InvalidInput, fmt::format("probe file '{}': {}", path.string(), reason));
}

// A field of a JSON object, or a failure naming it.
const json & field(const json & object, const char * key, const fs::path & path, const std::string & where = "") {
    if (!object.is_object() || !object.contains(key)) {
        fail(path, fmt::format("no field '{}{}'", where, key));
    }
    return object.at(key);
}

template <typename T>
T value_of(const json & object, const char * key, const fs::path & path, const std::string & where = "") {
    const json & item = field(object, key, path, where);
    try {
        return item.get<T>();
    } catch (const json::exception & e) {
        fail(path, fmt::format("field '{}{}': {}", where, key, e.what()));
    }
}

ordered_json vector_json(const Eigen::VectorXd & v) {
    return ordered_json(std::vector<double>(v.data(), v.data() + v.size()));
}

Eigen::VectorXd to_vector(const json & value, std::size_t size, const fs::path & path, const std::string & name) {
    std::vector<double> values;
    try {
        values = value.get<std::vector<double>>();
    } catch (const json::exception & e) {
        fail(path, fmt::format("field '{}': {}", name, e.what()));
    }
    if (values.size() != size) {
        fail(path, fmt::format("field '{}' has {} numbers, expected {}", name, values.size(), size));
    }
    return Eigen::Map<const Eigen::VectorXd>(values.data(), static_cast<Eigen::Index>(values.size()));
}

Eigen::VectorXd read_vector(const json & object, const char * key, std::size_t size, const fs::path & path,
                            const std::string & where = "") {
    return to_vector(field(object, key, path, where), size, path, where + key);
}

ordered_json hyperparameters_json(const Probe & probe) {
    const Hyperparameters & h = probe.hyperparameters;
    ordered_json out = {{"selection", selection_name(h.selection)}};
    if (probe.method == ProbeMethod::LogReg) {
        out["C"] = h.c;
        out["c_grid"] = h.c_grid;
        out["c_scores"] = h.c_scores;
        out["cv_folds"] = h.cv_folds;
        out["selection_metric"] = "roc_auc_ovr_macro";
    } else {
        out["learning_rate"] = h.learning_rate;
        out["lr_grid"] = h.lr_grid;
        out["val_accuracy"] = h.val_accuracy;
        out["epochs"] = h.epochs;
        out["batch_size"] = h.batch_size;
        out["weight_decay"] = h.weight_decay;
        out["optimizer"] = "adamw";
    }
    return out;
}

Hyperparameters read_hyperparameters(const json & object, ProbeMethod method, const fs::path & path) {
    const std::string where = "hyperparameters.";
    Hyperparameters h;
    const auto selection = value_of<std::string>(object, "selection", path, where);
    bool known = false;
    for (const auto s : {Selection::Given, Selection::CrossValidation, Selection::Validation}) {
        if (selection == selection_name(s)) {
            h.selection = s;
            known = true;
        }
    }
    if (!known) {
        fail(path, fmt::format("field 'hyperparameters.selection': '{}' is not given, cross-validation or validation",
                               selection));
    }
    if (method == ProbeMethod::LogReg) {
        h.c = value_of<double>(object, "C", path, where);
        h.c_grid = value_of<std::vector<double>>(object, "c_grid", path, where);
        h.c_scores = value_of<std::vector<double>>(object, "c_scores", path, where);
        h.cv_folds = value_of<std::size_t>(object, "cv_folds", path, where);
    } else {
        h.learning_rate = value_of<float>(object, "learning_rate", path, where);
        h.lr_grid = value_of<std::vector<float>>(object, "lr_grid", path, where);
        h.val_accuracy = value_of<std::vector<double>>(object, "val_accuracy", path, where);
        h.epochs = value_of<std::size_t>(object, "epochs", path, where);
        h.batch_size = value_of<std::size_t>(object, "batch_size", path, where);
        h.weight_decay = value_of<float>(object, "weight_decay", path, where);
    }
    return h;
}

ordered_json split_json(const TrainingInfo & t) {
    ordered_json out = {{"generated", t.split_generated}};
    if (t.split_generated) {
        out["seed"] = t.split_seed;
        out["train"] = t.proportions.train;
        out["val"] = t.proportions.val;
        out["calib"] = t.proportions.calib;
        out["test"] = t.proportions.test;
    }
    return out;
}

Fusion read_fusion(const json & object, const fs::path & path) {
    const std::string where = "fusion.";
    Fusion fusion;
    fusion.weight = value_of<double>(object, "weight", path, where);
    fusion.strategy = value_of<std::string>(object, "strategy", path, where);
    fusion.model_sha256 = value_of<std::string>(object, "model_sha256", path, where);
    fusion.rows = value_of<std::size_t>(object, "rows", path, where);
    fusion.grid = value_of<std::vector<double>>(object, "grid", path, where);
    fusion.accuracy = value_of<std::vector<double>>(object, "accuracy", path, where);
    return fusion;
}

ordered_json calibration_json(const Calibration & cal) {
    ordered_json out = {{"score", conformal_score_kind(cal.params.score)},
                        {"randomized", cal.params.randomized},
                        {"lambda", cal.params.lambda},
                        {"k_reg", cal.params.k_reg},
                        {"alpha", cal.alpha},
                        {"q_hat", cal.q_hat(cal.alpha)},
                        {"rows", cal.scores.size()},
                        {"scores", cal.scores},
                        {"per_class", cal.per_class},
                        {"seed", cal.seed}};
    if (cal.tuning) {
        out["raps_tuning"] = {{"rows", cal.tuning->rows},
                              {"lambda_chosen", cal.tuning->lambda_chosen},
                              {"k_reg_chosen", cal.tuning->k_reg_chosen},
                              {"lambda_grid", cal.tuning->lambda_grid},
                              {"mean_sizes", cal.tuning->mean_sizes}};
    }
    if (cal.has_rows()) {
        out["labels"] = cal.labels;
        ordered_json rows = ordered_json::array();
        for (Eigen::Index i = 0; i < cal.probabilities.rows(); ++i) {
            rows.push_back(vector_json(cal.probabilities.row(i).transpose()));
        }
        out["probabilities"] = std::move(rows);
    }
    return out;
}

// The calibration; files written before per_class, seed, the rows and raps_tuning were kept lack them.
Calibration read_calibration(const json & object, std::size_t classes, const fs::path & path) {
    const std::string where = "calibration.";
    Calibration cal;
    try {
        cal.params.score = parse_conformal_score_kind(value_of<std::string>(object, "score", path, where));
    } catch (const Error & e) {
        fail(path, fmt::format("field 'calibration.score': {}", e.what()));
    }
    cal.params.randomized = value_of<bool>(object, "randomized", path, where);
    cal.params.lambda = value_of<double>(object, "lambda", path, where);
    cal.params.k_reg = value_of<std::size_t>(object, "k_reg", path, where);
    cal.alpha = value_of<double>(object, "alpha", path, where);
    cal.scores = value_of<std::vector<double>>(object, "scores", path, where);
    if (object.contains("per_class")) {
        cal.per_class = value_of<bool>(object, "per_class", path, where);
    }
    if (object.contains("seed")) {
        cal.seed = value_of<std::uint64_t>(object, "seed", path, where);
    } else if (cal.params.randomized) {
        fail(path, "field 'calibration.randomized': a randomised score needs the field 'calibration.seed'");
    }
    if (object.contains("raps_tuning")) {
        const json & t = object.at("raps_tuning");
        const std::string at = where + "raps_tuning.";
        cal.tuning = RapsTuning{value_of<std::size_t>(t, "rows", path, at), value_of<bool>(t, "lambda_chosen", path, at),
                                value_of<bool>(t, "k_reg_chosen", path, at),
                                value_of<std::vector<double>>(t, "lambda_grid", path, at),
                                value_of<std::vector<double>>(t, "mean_sizes", path, at)};
    }
    if (object.contains("labels") || object.contains("probabilities")) {
        cal.labels = value_of<std::vector<int>>(object, "labels", path, where);
        const json & rows = field(object, "probabilities", path, where);
        if (!rows.is_array() || rows.size() != cal.labels.size()) {
            fail(path, fmt::format("field 'calibration.probabilities' must be an array of {} rows, one per label",
                                   cal.labels.size()));
        }
        cal.probabilities.resize(static_cast<Eigen::Index>(rows.size()), static_cast<Eigen::Index>(classes));
        for (std::size_t i = 0; i < rows.size(); ++i) {
            cal.probabilities.row(static_cast<Eigen::Index>(i)) =
                to_vector(rows[i], classes, path, fmt::format("calibration.probabilities[{}]", i)).transpose();
        }
    }
    return cal;
}

}  // namespace

const char * probe_method_name(ProbeMethod method) noexcept {
    switch (method) {
        case ProbeMethod::LogReg: return "logreg";
        case ProbeMethod::Linear: return "linear";
    }
    return "unknown";
}

ProbeMethod parse_probe_method(const std::string & text) {
    for (const auto method : {ProbeMethod::LogReg, ProbeMethod::Linear}) {
        if (text == probe_method_name(method)) {
            return method;
        }
    }
    throw Error(ErrorKind::InvalidArgument, fmt::format("probe method '{}' is not logreg or linear", text));
}

const char * selection_name(Selection selection) noexcept {
    switch (selection) {
        case Selection::Given:           return "given";
        case Selection::CrossValidation: return "cross-validation";
        case Selection::Validation:      return "validation";
    }
    return "unknown";
}

Eigen::MatrixXd Probe::probabilities(const vision::FeatureView & features) const {
    if (static_cast<std::size_t>(features.cols()) != dimension) {
        throw Error(ErrorKind::InvalidInput, fmt::format("probe: features have {} dimensions, the probe expects {}",
                                                         features.cols(), dimension));
    }
    Eigen::MatrixXd x = features.cast<double>();
    if (normalisation.standardise) {
        x.rowwise() -= normalisation.mean.transpose();
        x.array().rowwise() /= normalisation.scale.transpose().array();
    }
    Eigen::MatrixXd logits = x * weights.transpose();
    logits.rowwise() += bias.transpose();
    return softmax_rows(std::move(logits));
}

std::vector<int> Probe::class_indices(const std::vector<std::string> & labels, std::string_view source) const {
    std::map<std::string_view, int> index;
    for (std::size_t c = 0; c < classes.size(); ++c) {
        index.emplace(classes[c], static_cast<int>(c));
    }
    std::vector<int> out(labels.size());
    for (std::size_t row = 0; row < labels.size(); ++row) {
        const auto it = index.find(labels[row]);
        if (it == index.end()) {
            throw Error(ErrorKind::InvalidInput,
                        fmt::format("{}: row {} has label '{}', which is not one of the probe's labels ({})", source,
                                    row, labels[row], fmt::join(classes, ", ")));
        }
        out[row] = it->second;
    }
    return out;
}

void Fusion::validate() const {
    const auto in_unit_interval = [](double x) { return x >= 0.0 && x <= 1.0; };
    if (strategy.empty() || model_sha256.empty()) {
        throw Error(ErrorKind::InvalidInput, "probe: the fusion weight needs the strategy and model it was tuned for");
    }
    if (rows == 0 || grid.empty() || accuracy.size() != grid.size()) {
        throw Error(ErrorKind::InvalidInput,
                    fmt::format("probe: the fusion weight was tuned on {} rows with {} weights and {} accuracies; "
                                "it needs at least one row and one accuracy per weight",
                                rows, grid.size(), accuracy.size()));
    }
    if (!std::all_of(grid.begin(), grid.end(), in_unit_interval) ||
        !std::all_of(accuracy.begin(), accuracy.end(), in_unit_interval)) {
        throw Error(ErrorKind::InvalidInput, "probe: the fusion grid and accuracies must lie in [0, 1]");
    }
    if (std::find(grid.begin(), grid.end(), weight) == grid.end()) {
        throw Error(ErrorKind::InvalidInput, fmt::format("probe: the fusion weight {} is not one of the grid's ({})",
                                                         weight, fmt::join(grid, ", ")));
    }
}

void Probe::validate() const {
    const auto k = static_cast<Eigen::Index>(classes.size());
    const auto d = static_cast<Eigen::Index>(dimension);
    if (classes.size() < 2) {
        throw Error(ErrorKind::InvalidInput, fmt::format("probe: {} classes, at least 2 needed", classes.size()));
    }
    if (dimension == 0 || weights.rows() != k || weights.cols() != d || bias.size() != k) {
        throw Error(ErrorKind::InvalidInput,
                    fmt::format("probe: weights are {}x{} and bias {} for {} classes of dimension {}", weights.rows(),
                                weights.cols(), bias.size(), k, d));
    }
    if (normalisation.standardise && (normalisation.mean.size() != d || normalisation.scale.size() != d ||
                                      !(normalisation.scale.array() > 0.0).all())) {
        throw Error(ErrorKind::InvalidInput, "probe: the normalisation needs a mean and a positive scale per feature");
    }
    if (!weights.allFinite() || !bias.allFinite()) {
        throw Error(ErrorKind::InvalidInput, "probe: the weights are not all finite");
    }
    std::map<std::string_view, int> seen;
    for (const auto & name : classes) {
        if (++seen[name] > 1) {
            throw Error(ErrorKind::InvalidInput, fmt::format("probe: class '{}' appears twice", name));
        }
    }
    if (calibration) {
        calibration->validate(classes.size());
    }
    if (fusion) {
        fusion->validate();
    }
}

void save_probe(const Probe & probe, const std::filesystem::path & path) {
    probe.validate();
    ordered_json weights = ordered_json::array();
    for (Eigen::Index c = 0; c < probe.weights.rows(); ++c) {
        weights.push_back(vector_json(probe.weights.row(c).transpose()));
    }
    ordered_json normalisation = {{"standardise", probe.normalisation.standardise}};
    if (probe.normalisation.standardise) {
        normalisation["mean"] = vector_json(probe.normalisation.mean);
        normalisation["scale"] = vector_json(probe.normalisation.scale);
    }
    const ordered_json calibration = probe.calibration ? calibration_json(*probe.calibration) : ordered_json(nullptr);
    ordered_json out = {
        {"format", probe.calibration && probe.calibration->per_class ? kProbeFormatV3
                   : probe.fusion                                     ? kProbeFormatV2
                                                                      : kProbeFormatV1},
        {"classes", probe.classes},
        {"label_set", probe.label_set.empty() ? ordered_json(nullptr) : ordered_json(probe.label_set)},
        {"encoder",
         {{"mmproj_sha256", probe.encoder.mmproj_sha256},
          {"kind", vision::feature_kind_name(probe.encoder.kind)},
          {"preprocessing", probe.encoder.preprocessing}}},
        {"dimension", probe.dimension},
        {"normalisation", normalisation},
        {"method", probe_method_name(probe.method)},
        {"hyperparameters", hyperparameters_json(probe)},
        {"training",
         {{"shots", probe.training.shots},
          {"seed", probe.training.seed},
          {"rows_per_class", probe.training.rows_per_class},
          {"split", split_json(probe.training)}}},
        {"weights", weights},
        {"bias", vector_json(probe.bias)},
        {"calibration", calibration},
    };
    if (probe.fusion) {
        const Fusion & fusion = *probe.fusion;
        out["fusion"] = {{"weight", fusion.weight},
                         {"strategy", fusion.strategy},
                         {"model_sha256", fusion.model_sha256},
                         {"rows", fusion.rows},
                         {"grid", fusion.grid},
                         {"accuracy", fusion.accuracy}};
    }
    write_file_atomically(path, out.dump(1) + '\n', "probe file");
}

Probe load_probe(const std::filesystem::path & path) {
    std::ifstream file(path, std::ios::binary);
    if (!file) {
        fail(path, "cannot open it");
    }
    json in;
    try {
        in = json::parse(file);
    } catch (const json::parse_error & e) {
        fail(path, fmt::format("malformed JSON: {}", e.what()));
    }
    const auto format = value_of<std::string>(in, "format", path);
    if (format != kProbeFormatV1 && format != kProbeFormatV2 && format != kProbeFormatV3) {
        fail(path, fmt::format("format is '{}', this dermlens reads '{}', '{}' and '{}'", format, kProbeFormatV1,
                               kProbeFormatV2, kProbeFormatV3));
    }
    Probe probe;
    probe.classes = value_of<std::vector<std::string>>(in, "classes", path);
    const json & label_set = field(in, "label_set", path);
    probe.label_set = label_set.is_null() ? "" : value_of<std::string>(in, "label_set", path);
    const json & encoder = field(in, "encoder", path);
    probe.encoder.mmproj_sha256 = value_of<std::string>(encoder, "mmproj_sha256", path, "encoder.");
    try {
        probe.encoder.kind = vision::parse_feature_kind(value_of<std::string>(encoder, "kind", path, "encoder."));
    } catch (const Error & e) {
        fail(path, fmt::format("field 'encoder.kind': {}", e.what()));
    }
    probe.encoder.preprocessing = value_of<std::string>(encoder, "preprocessing", path, "encoder.");
    probe.dimension = value_of<std::size_t>(in, "dimension", path);
    const json & normalisation = field(in, "normalisation", path);
    probe.normalisation.standardise = value_of<bool>(normalisation, "standardise", path, "normalisation.");
    if (probe.normalisation.standardise) {
        probe.normalisation.mean = read_vector(normalisation, "mean", probe.dimension, path, "normalisation.");
        probe.normalisation.scale = read_vector(normalisation, "scale", probe.dimension, path, "normalisation.");
    }
    try {
        probe.method = parse_probe_method(value_of<std::string>(in, "method", path));
    } catch (const Error & e) {
        fail(path, fmt::format("field 'method': {}", e.what()));
    }
    probe.hyperparameters = read_hyperparameters(field(in, "hyperparameters", path), probe.method, path);
    const json & training = field(in, "training", path);
    probe.training.shots = value_of<std::size_t>(training, "shots", path, "training.");
    probe.training.seed = value_of<std::uint64_t>(training, "seed", path, "training.");
    probe.training.rows_per_class = value_of<std::vector<std::size_t>>(training, "rows_per_class", path, "training.");
    const json & split = field(training, "split", path, "training.");
    probe.training.split_generated = value_of<bool>(split, "generated", path, "training.split.");
    if (probe.training.split_generated) {
        probe.training.split_seed = value_of<std::uint64_t>(split, "seed", path, "training.split.");
        probe.training.proportions = {value_of<double>(split, "train", path, "training.split."),
                                      value_of<double>(split, "val", path, "training.split."),
                                      value_of<double>(split, "calib", path, "training.split."),
                                      value_of<double>(split, "test", path, "training.split.")};
    }
    const json & weights = field(in, "weights", path);
    if (!weights.is_array() || weights.size() != probe.classes.size()) {
        fail(path, fmt::format("field 'weights' must be an array of {} rows, one per class", probe.classes.size()));
    }
    probe.weights.resize(static_cast<Eigen::Index>(probe.classes.size()), static_cast<Eigen::Index>(probe.dimension));
    for (std::size_t c = 0; c < weights.size(); ++c) {
        probe.weights.row(static_cast<Eigen::Index>(c)) =
            to_vector(weights[c], probe.dimension, path, fmt::format("weights[{}]", c)).transpose();
    }
    probe.bias = read_vector(in, "bias", probe.classes.size(), path);
    const json & calibration = field(in, "calibration", path);
    if (!calibration.is_null()) {
        probe.calibration = read_calibration(calibration, probe.classes.size(), path);
    }
    if (format == kProbeFormatV2 || (format == kProbeFormatV3 && in.contains("fusion"))) {
        probe.fusion = read_fusion(field(in, "fusion", path), path);
    } else if (in.contains("fusion")) {
        fail(path, fmt::format("field 'fusion' needs format '{}', the file says '{}'", kProbeFormatV2, format));
    }
    if (probe.calibration && probe.calibration->per_class && format != kProbeFormatV3) {
        fail(path, fmt::format("field 'calibration.per_class' needs format '{}', the file says '{}'", kProbeFormatV3,
                               format));
    }
    try {
        probe.validate();
        if (probe.calibration) {
            probe.calibration->q_hat(probe.calibration->alpha);
        }
    } catch (const Error & e) {
        fail(path, e.what());
    }
    return probe;
}

void check_compatible(const Probe & probe, std::string_view probe_name, const vision::FeatureTable & table,
                      std::string_view table_name) {
    if (!(probe.encoder == table.encoder)) {
        throw Error(ErrorKind::InvalidInput,
                    fmt::format("probe '{}' was trained on features of encoder '{}', but features file '{}' comes "
                                "from encoder '{}'",
                                probe_name, probe.encoder.key(), table_name, table.encoder.key()));
    }
    if (table.dimension() != probe.dimension) {
        throw Error(ErrorKind::InvalidInput,
                    fmt::format("probe '{}' takes {}-dimensional features, but features file '{}' has {} dimensions",
                                probe_name, probe.dimension, table_name, table.dimension()));
    }
    for (std::size_t row = 0; row < table.size(); ++row) {
        const std::string & label = table.labels[row];
        if (!label.empty() && std::find(probe.classes.begin(), probe.classes.end(), label) == probe.classes.end()) {
            throw Error(ErrorKind::InvalidInput,
                        fmt::format("features file '{}' row {} ('{}') has label '{}', which probe '{}' does not know "
                                    "(its labels: {})",
                                    table_name, row, table.images[row], label, probe_name,
                                    fmt::join(probe.classes, ", ")));
        }
    }
}

void check_label_set(const Probe & probe, std::string_view probe_name, std::string_view expected) {
    if (probe.label_set != expected) {
        throw Error(ErrorKind::InvalidArgument,
                    fmt::format("probe '{}' is for label set '{}', not '{}'", probe_name,
                                probe.label_set.empty() ? "(none)" : probe.label_set, expected));
    }
}

}  // namespace dermlens::probe
