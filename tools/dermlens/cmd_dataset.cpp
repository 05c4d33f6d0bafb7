// dermlens dataset import --format F --source DIR|FILE --out manifest.csv [--images DIR]
//   [--label-set NAME] [--seed N] [--split 6:2:2|8:2] [--skip-unknown] [--roll-up] [--view V]
//   [--kb DIR]... [--json]
// Turns a public dataset's own files into a manifest whose labels are a knowledge-base
// label set's (docs/datasets.md).
#include "kb_options.h"

#include "dermlens/error.h"
#include "dataset/dataset.h"
#include "dataset/manifest_write.h"

#include <fmt/format.h>

#include <cstdio>
#include <filesystem>
#include <map>

namespace dermlens::cli {
namespace {

namespace fs = std::filesystem;
using nlohmann::ordered_json;

struct DatasetImportOptions {
    KbOptions kb;
    std::string format;
    std::string source;
    std::string images;  // empty: beside the dataset's files
    std::string label_set;
    std::string out;
    std::uint64_t seed = 0;
    std::string split = "6:2:2";
    bool skip_unknown = false;
    bool roll_up = false;
    std::string view = "both";

    // Throws Error(InvalidArgument) for a bad format, split, view or image folder.
    dataset::ImportOptions validate() const {
        dataset::ImportOptions options;
        options.format = dataset::parse_dataset_format(format);
        options.split = dataset::parse_split_ratio(split);
        options.view = dataset::parse_derm7pt_view(view);
        if (!images.empty() && !fs::is_directory(images)) {
            throw Error(ErrorKind::InvalidArgument, fmt::format("--images '{}': no such folder", images));
        }
        options.source = source;
        options.images = images;
        options.label_set = label_set;
        options.seed = seed;
        options.skip_unknown = skip_unknown;
        options.roll_up = roll_up;
        return options;
    }
};

std::map<std::string, std::size_t> label_counts(const dataset::Manifest & manifest) {
    std::map<std::string, std::size_t> counts;
    for (const auto & row : manifest.rows) {
        ++counts[row.label];
    }
    return counts;
}

std::string counts_text(const std::map<std::string, std::size_t> & counts) {
    std::vector<std::string> parts;
    for (const auto & [name, count] : counts) {
        parts.push_back(fmt::format("{} {}", name.empty() ? "(none)" : name, count));
    }
    return fmt::format("{}", fmt::join(parts, ", "));
}

void print_text(const DatasetImportOptions & options, const std::string & label_set, const dataset::ImportResult & result) {
    const dataset::ImportReport & report = result.report;
    fmt::print("dataset import: {} '{}' -> manifest '{}'\n", options.format, options.source, options.out);
    fmt::print("  rows: {} read, {} imported, {} skipped\n", report.rows_read, result.manifest.size(), report.skipped());
    if (!report.skipped_labels.empty()) {
        fmt::print("  skipped labels (not in {}): {}\n", label_set, counts_text(report.skipped_labels));
    }
    fmt::print("  labels ({}): {}\n", label_set, counts_text(label_counts(result.manifest)));
    fmt::print("  split: {}: {}\n", report.split_source, counts_text(report.split_sizes));
    fmt::print("  images: {} of {} found under '{}'\n", result.manifest.size() - report.missing_images,
               result.manifest.size(), report.image_root.string());
    for (const std::string & note : report.notes) {
        fmt::print("  note: {}\n", note);
    }
}

ordered_json report_json(const DatasetImportOptions & options, const std::string & label_set,
                         const dataset::ImportResult & result) {
    const dataset::ImportReport & report = result.report;
    return {{"format", options.format},
            {"source", options.source},
            {"out", options.out},
            {"label_set", label_set},
            {"rows_read", report.rows_read},
            {"imported", result.manifest.size()},
            {"skipped", report.skipped_labels},
            {"labels", label_counts(result.manifest)},
            {"split", {{"source", report.split_source}, {"sizes", report.split_sizes}}},
            {"images",
             {{"root", report.image_root.string()},
              {"missing", report.missing_images},
              {"first_missing", report.first_missing_image}}},
            {"duplicate_images", report.duplicate_images},
            {"notes", report.notes}};
}

int run_dataset_import(const DatasetImportOptions & options) {
    const dataset::ImportOptions import_options = options.validate();
    const kb::KnowledgeBase base = options.kb.load();
    const dataset::ImportResult result = dataset::import_dataset(base, import_options);
    dataset::write_manifest_csv(result.manifest, options.out);
    const std::string label_set =
        options.label_set.empty() ? std::string(dataset::native_label_set(import_options.format)) : options.label_set;
    if (options.kb.json) {
        print_json(report_json(options, label_set, result));
    } else {
        print_text(options, label_set, result);
    }
    if (result.report.missing_images > 0) {
        std::fprintf(stderr,
                     "dermlens: warning: %zu images are not under '%s' (first: %s); the manifest lists where they "
                     "should be (--images names the folder)\n",
                     result.report.missing_images, result.report.image_root.c_str(),
                     result.report.first_missing_image.c_str());
    }
    return 0;
}

void register_dataset_import(CLI::App & dataset, std::vector<Command> & commands) {
    auto options = std::make_shared<DatasetImportOptions>();
    auto * app = dataset.add_subcommand(
        "import", "Read a public dataset's own files and write a manifest with the label set's labels and a split");
    app->add_option("--format", options->format,
                    fmt::format("Dataset format: {}", fmt::join(dataset::dataset_format_names(), ", ")))
        ->required();
    app->add_option("--source", options->source,
                    "The dataset's main file (HAM10000_metadata.csv, metadata.csv, ...) or the folder holding its files")
        ->required();
    app->add_option("--out", options->out, "Manifest CSV to write")->required();
    app->add_option("--images", options->images,
                    "Folder holding the images, searched below too (default: the folder of --source)");
    app->add_option("--label-set", options->label_set,
                    "Knowledge-base label set for the manifest's labels (default: the dataset's own; required for "
                    "ddi and folder)");
    app->add_option("--seed", options->seed, "Seed of the split, for datasets without an official one")
        ->capture_default_str();
    app->add_option("--split", options->split,
                    "Split for datasets without an official one: train:val:test (6:2:2), train:test (8:2) or "
                    "train:val:calib:test")
        ->capture_default_str();
    app->add_flag("--skip-unknown", options->skip_unknown,
                  "Leave out rows whose label the label set cannot map, and count them (default: refuse them)");
    app->add_flag("--roll-up", options->roll_up,
                  "Map a label whose condition the label set lacks to the nearest ancestor it has (e.g. PAD-UFES-20's "
                  "SEK to isic2019's BKL)");
    app->add_option("--view", options->view, "Derm7pt images to list: both, clinic or derm")->capture_default_str();
    add_kb_options(*app, options->kb);
    app->get_option("--json")->description("Print the report as JSON (docs/datasets.md)");
    commands.push_back({app, [options] { return run_dataset_import(*options); }});
}

}  // namespace

void register_dataset(CLI::App & root, std::vector<Command> & commands) {
    auto * dataset = root.add_subcommand("dataset", "Public datasets: import their own files as manifests "
                                                    "(docs/datasets.md)");
    dataset->require_subcommand(1);
    register_dataset_import(*dataset, commands);
}

}  // namespace dermlens::cli
