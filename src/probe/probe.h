// A trained probe: a linear softmax classifier on one encoder's features with its
// label set, feature normalisation, how it was trained and its conformal
// calibration, and the fusion weight tuned for one VLM. Stored as a versioned JSON
// file (docs/probes.md, "dermlens.probe/1", "/2" with a fusion weight, "/3" with
// class-conditional conformal calibration).
#pragma once

#include "probe/calibration.h"
#include "dataset/split.h"
#include "vision/feature_table.h"

#include <Eigen/Core>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace dermlens::probe {

enum class ProbeMethod {
    LogReg,  // multinomial L2 logistic regression, C by cross-validation (paper 001)
    Linear,  // softmax layer trained with AdamW, learning rate on the validation split (paper 000)
};
const char * probe_method_name(ProbeMethod method) noexcept;  // "logreg" | "linear"
ProbeMethod parse_probe_method(const std::string & text);     // throws Error(InvalidArgument)

// x -> (x - mean) / scale per feature; identity when !standardise.
struct Normalisation {
    bool standardise = false;
    Eigen::VectorXd mean;   // dimension entries when standardise
    Eigen::VectorXd scale;  // population standard deviation on the training rows; 1 where that is 0
};

// How a hyper-parameter (C or the learning rate) was set.
enum class Selection {
    Given,            // by the caller
    CrossValidation,  // k-fold cross-validation on the training rows (logreg)
    Validation,       // on the validation split (linear; logreg when a class has too few rows to fold)
};
const char * selection_name(Selection selection) noexcept;  // "given" | "cross-validation" | "validation"

// How the hyper-parameters were chosen and what was tried.
struct Hyperparameters {
    Selection selection = Selection::Given;
    // logreg
    double c = 0.0;
    std::vector<double> c_grid;     // empty when C was given
    std::vector<double> c_scores;   // macro ROC-AUC per C of c_grid: mean over folds, or on the validation split
    std::size_t cv_folds = 0;       // with Selection::CrossValidation
    // linear
    float learning_rate = 0.0f;
    std::vector<float> lr_grid;            // empty when the learning rate was given
    std::vector<double> val_accuracy;      // per learning rate of lr_grid
    std::size_t epochs = 0;
    std::size_t batch_size = 0;
    float weight_decay = 0.0f;
};

struct TrainingInfo {
    std::size_t shots = 0;  // per class; 0 = every training row
    std::uint64_t seed = 0;  // k-shot sampling (and the linear head's initialisation and batches)
    std::vector<std::size_t> rows_per_class;  // training rows actually used per class
    bool split_generated = false;  // the table had no split column: dataset::make_splits(split_seed, proportions)
    std::uint64_t split_seed = 0;
    dataset::SplitProportions proportions;
};

// The log-linear fusion weight (probe/fusion.h) chosen on validation images for one
// VLM side: it is only meaningful with that model and strategy.
struct Fusion {
    double weight = 0.0;         // of the probe; 1 - weight is the VLM's
    std::string strategy;        // the pipeline strategy the VLM probabilities came from
    std::string model_sha256;    // the VLM's GGUF
    std::size_t rows = 0;        // validation images
    std::vector<double> grid;    // the weights tried (weight is one of them)
    std::vector<double> accuracy;  // validation accuracy per weight of grid

    void validate() const;  // throws Error(InvalidInput)
};

struct Probe {
    std::vector<std::string> classes;  // class names in output order
    std::string label_set;             // the knowledge base's label set they come from, or ""
    vision::EncoderIdentity encoder;
    std::size_t dimension = 0;
    Normalisation normalisation;
    ProbeMethod method = ProbeMethod::LogReg;
    Hyperparameters hyperparameters;
    TrainingInfo training;
    Eigen::MatrixXd weights;  // classes x dimension, applied to normalised features
    Eigen::VectorXd bias;
    std::optional<Calibration> calibration;
    std::optional<Fusion> fusion;  // set by `dermlens tune`

    // Class probabilities, one row per feature row (raw, not yet normalised, features).
    Eigen::MatrixXd probabilities(const vision::FeatureView & features) const;
    Eigen::MatrixXd probabilities(const Eigen::MatrixXf & features) const { return probabilities(vision::view_of(features)); }
    // The class index of each name; throws Error(InvalidInput) naming an unknown one.
    std::vector<int> class_indices(const std::vector<std::string> & labels, std::string_view source) const;
    void validate() const;  // shapes agree; throws Error(InvalidInput)
};

// A probe is written in the oldest format that holds it, so that older readers keep reading
// it: /1; /2 is /1 plus the `fusion` field, which a reader of /1 would silently ignore; /3 is
// /2 (fusion optional) with class-conditional calibration (`calibration.per_class`), which a
// reader of /1 or /2 would silently take for marginal. The calibration's other additions
// (the lac score, randomised scores) are refused by older readers, or change no set (the
// calibration rows, the seed), so they need no new format.
inline constexpr std::string_view kProbeFormatV1 = "dermlens.probe/1";
inline constexpr std::string_view kProbeFormatV2 = "dermlens.probe/2";
inline constexpr std::string_view kProbeFormatV3 = "dermlens.probe/3";

void save_probe(const Probe & probe, const std::filesystem::path & path);
// Throws Error(InvalidInput) naming the file and the field for anything malformed.
Probe load_probe(const std::filesystem::path & path);

// Refuses features the probe was not trained for, naming both sides: another encoder
// identity (all of mmproj hash, feature kind and preprocessing must be equal), another
// dimension, or a row labelled with a class the probe does not have. Throws Error(InvalidInput).
void check_compatible(const Probe & probe, std::string_view probe_name, const vision::FeatureTable & table,
                      std::string_view table_name);

// Refuses a probe of another knowledge-base label set than `expected`; throws Error(InvalidArgument).
void check_label_set(const Probe & probe, std::string_view probe_name, std::string_view expected);

}  // namespace dermlens::probe
