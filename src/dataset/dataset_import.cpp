// import_dataset: a dataset's rows -> a manifest (labels through the label set, images found
// under the image folder, the official split or a seeded grouped one).
#include "dataset/dataset.h"

#include "dermlens/error.h"
#include "dataset/dataset_csv.h"
#include "dataset/dataset_labels.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <functional>
#include <initializer_list>
#include <optional>

namespace dermlens::dataset {
namespace {

namespace fs = std::filesystem;

// Finds a dataset's image by the name its files give: under the image folder as written,
// else a file of that name anywhere below it (HAM10000_images_part_1/, imgs_part_2/, ...).
class ImageLocator {
public:
    explicit ImageLocator(fs::path root) : root_(fs::absolute(root).lexically_normal()) {}

    const fs::path & root() const { return root_; }

    std::optional<fs::path> find(const std::string & name) {
        std::error_code ec;
        const fs::path direct = (root_ / name).lexically_normal();
        if (fs::is_regular_file(direct, ec)) {
            return direct;
        }
        if (!indexed_) {
            index();
        }
        const auto it = by_file_name_.find(fs::path(name).filename().string());
        return it == by_file_name_.end() ? std::nullopt : std::optional<fs::path>(it->second);
    }

private:
    void index() {
        indexed_ = true;
        std::error_code ec;
        std::vector<fs::path> files;
        for (fs::recursive_directory_iterator it(root_, fs::directory_options::skip_permission_denied, ec), end;
             !ec && it != end; it.increment(ec)) {
            if (it->is_regular_file(ec) && is_image_file_name(it->path())) {
                files.push_back(it->path());
            }
        }
        std::sort(files.begin(), files.end());  // the first of equal names wins, whatever the listing order
        for (const fs::path & file : files) {
            by_file_name_.emplace(file.filename().string(), file.lexically_normal());
        }
    }

    fs::path root_;
    bool indexed_ = false;
    std::map<std::string, fs::path> by_file_name_;
};

std::string where(const DatasetRow & row) {
    return row.line > 0 ? fmt::format("'{}' line {}", row.file.string(), row.line)
                        : fmt::format("folder '{}'", row.file.string());
}

// The manifest's own columns; a dataset column of the same name is kept as "dataset_<name>".
std::vector<std::string> metadata_names(const std::vector<std::string> & columns) {
    static constexpr std::array<std::string_view, 5> kReserved = {"image", "path", "label", "split", "patient_id"};
    std::vector<std::string> names;
    for (const std::string & column : columns) {
        const bool reserved = std::find(kReserved.begin(), kReserved.end(), column) != kReserved.end();
        names.push_back(reserved ? "dataset_" + column : column);
    }
    return names;
}

std::string target_label_set(const ImportOptions & options) {
    if (!options.label_set.empty()) {
        return options.label_set;
    }
    const std::string_view native = native_label_set(options.format);
    if (native.empty()) {
        throw Error(ErrorKind::InvalidArgument,
                    fmt::format("format '{}' has no label set of its own: name the label set to map its labels to",
                                dataset_format_name(options.format)));
    }
    return std::string(native);
}

// Where a row's label comes from for the target label set, and which label set holds it.
// Most label sets take the dataset's own label through its native set; some take a coarser
// label the dataset itself gives (a partition column, its own taxonomy, its own class table),
// since the knowledge base files those groupings outside the finer labels' ancestors.
struct LabelSource {
    std::string native_set;
    std::function<std::string(const DatasetRow &)> label;
};

// DDI's malignant column: True/False (1/0 in older copies) as the ddi-malignant labels.
std::string malignant_label(const std::string & value) {
    if (value == "True" || value == "true" || value == "1") {
        return "malignant";
    }
    return value == "False" || value == "false" || value == "0" ? "benign" : value;
}

// A label taken from one of the table's metadata columns (the first of `names` it has).
LabelSource column_source(const DatasetTable & table, const std::string & label_set,
                          std::initializer_list<std::string_view> names, std::string (*translate)(const std::string &)) {
    for (const std::string_view name : names) {
        const auto it = std::find(table.metadata_columns.begin(), table.metadata_columns.end(), name);
        if (it != table.metadata_columns.end()) {
            const auto column = static_cast<std::size_t>(it - table.metadata_columns.begin());
            return {label_set, [column, translate](const DatasetRow & row) {
                        return translate == nullptr ? row.metadata[column] : translate(row.metadata[column]);
                    }};
        }
    }
    throw Error(ErrorKind::InvalidInput, fmt::format("label set '{}' takes its labels from the dataset's column '{}', "
                                                     "which the file does not have",
                                                     label_set, *names.begin()));
}

LabelSource label_source(const ImportOptions & options, const DatasetTable & table, const std::string & label_set) {
    const auto own = [](const DatasetRow & row) { return row.label; };
    switch (options.format) {
        case DatasetFormat::Fitzpatrick17k:
            if (label_set == "fitzpatrick17k-9") {
                return column_source(table, label_set, {"nine_partition_label"}, nullptr);
            }
            if (label_set == "fitzpatrick17k-3") {
                return column_source(table, label_set, {"three_partition_label"}, nullptr);
            }
            break;
        case DatasetFormat::Ddi:
            if (label_set == "ddi-malignant") {
                return column_source(table, label_set, {"malignant", "malignancy(malig=1)"}, malignant_label);
            }
            break;
        case DatasetFormat::Derm7pt:
            if (label_set == "derm7pt-14") {
                return {label_set, [](const DatasetRow & row) { return detail::derm7pt_class(row.label); }};
            }
            break;
        case DatasetFormat::Derm12345:
            if (detail::derm12345_coarse_label("mel", label_set)) {
                return {label_set, [label_set](const DatasetRow & row) {
                            return detail::derm12345_coarse_label(row.label, label_set).value_or(row.label);
                        }};
            }
            break;
        default: break;
    }
    return {std::string(native_label_set(options.format)), own};
}

std::string ratio_text(const dataset::SplitProportions & split) {
    return fmt::format("{:g}:{:g}:{:g}:{:g} (train:val:calib:test)", split.train, split.val, split.calib, split.test);
}

void assign_seeded_splits(Manifest & manifest, const ImportOptions & options, const std::string & group_column,
                          ImportReport & report) {
    std::vector<std::string> labels;
    std::vector<std::string> groups;
    for (const ManifestRow & row : manifest.rows) {
        labels.push_back(row.label);
        groups.push_back(row.patient_id);
    }
    const std::vector<std::string> splits = dataset::make_splits(labels, groups, options.seed, options.split);
    for (std::size_t i = 0; i < manifest.rows.size(); ++i) {
        manifest.rows[i].split = splits[i];
    }
    report.split_source = fmt::format("seeded {}, seed {}, {}", ratio_text(options.split), options.seed,
                                      group_column.empty() ? "each image on its own (the dataset has no patient or "
                                                             "lesion ids)"
                                                           : "grouped by " + group_column);
}

}  // namespace

std::size_t ImportReport::skipped() const {
    std::size_t total = 0;
    for (const auto & [label, count] : skipped_labels) {
        total += count;
    }
    return total;
}

ImportResult import_dataset(const kb::KnowledgeBase & kb, const ImportOptions & options) {
    const std::string label_set = target_label_set(options);
    const DatasetTable table = read_dataset(options.format, options.source, options.view);
    const LabelSource source = label_source(options, table, label_set);
    LabelMapper mapper(kb, source.native_set, label_set, options.roll_up);
    ImageLocator images(options.images.empty() ? table.image_root : options.images);

    ImportResult result;
    ImportReport & report = result.report;
    report.rows_read = table.rows.size();
    report.image_root = images.root();
    report.notes = table.notes;
    Manifest & manifest = result.manifest;
    manifest.source = options.source;
    manifest.metadata_columns = metadata_names(table.metadata_columns);
    std::map<fs::path, std::string> listed;  // image -> where, to refuse an image listed twice
    for (const DatasetRow & row : table.rows) {
        const std::string label = source.label(row);
        const LabelMapping & mapping = mapper.map(label);
        if (!mapping.label) {
            if (options.skip_unknown) {
                ++report.skipped_labels[label];
                continue;
            }
            throw Error(ErrorKind::InvalidArgument,
                        fmt::format("{}: label '{}' cannot be mapped to label set '{}': {} (skip_unknown leaves "
                                    "such rows out)",
                                    where(row), label, label_set, mapping.reason));
        }
        ManifestRow entry;
        const auto found = images.find(row.image);
        entry.image = found ? *found : (images.root() / row.image).lexically_normal();
        if (!found && report.missing_images++ == 0) {
            report.first_missing_image = row.image;
        }
        // A second row for an image already listed is left out and reported: one quirky row must not
        // cost the whole dataset.
        if (const auto [at, added] = listed.emplace(entry.image, where(row)); !added) {
            ++report.duplicate_images;
            report.notes.push_back(at->second == where(row)
                                       ? fmt::format("{}: image '{}' is listed twice on that line; imported once",
                                                     where(row), row.image)
                                       : fmt::format("{}: image '{}' is already listed at {}; this row is left out",
                                                     where(row), row.image, at->second));
            continue;
        }
        entry.image_field = entry.image.string();
        entry.label = *mapping.label;
        entry.split = row.split;
        entry.patient_id = row.group;
        entry.metadata = row.metadata;
        manifest.rows.push_back(std::move(entry));
    }
    if (manifest.rows.empty()) {
        throw Error(ErrorKind::InvalidInput,
                    fmt::format("'{}': none of its {} rows has a label in label set '{}'", options.source.string(),
                                table.rows.size(), label_set));
    }
    if (table.has_official_split()) {
        report.split_source = "official: " + table.split_source;
    } else {
        assign_seeded_splits(manifest, options, table.group_column, report);
    }
    for (const ManifestRow & row : manifest.rows) {
        ++report.split_sizes[row.split];
    }
    return result;
}

}  // namespace dermlens::dataset
