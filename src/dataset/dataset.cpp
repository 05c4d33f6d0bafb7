// Dataset formats by name, the readers behind them, and split ratios.
#include "dataset/dataset.h"

#include "dermlens/error.h"
#include "dataset/dataset_csv.h"

#include <fmt/format.h>

#include <array>
#include <charconv>
#include <numeric>
#include <set>

namespace dermlens::dataset {
namespace {

struct FormatInfo {
    DatasetFormat format;
    std::string_view name;
    std::string_view native_label_set;
};

constexpr std::array<FormatInfo, 10> kFormats = {{
    {DatasetFormat::Ham10000, "ham10000", "ham10000"},
    {DatasetFormat::Isic2018, "isic2018", "ham10000"},  // task 3 is HAM10000's seven classes
    {DatasetFormat::Isic2019, "isic2019", "isic2019"},
    {DatasetFormat::PadUfes20, "pad-ufes-20", "pad-ufes-20"},
    {DatasetFormat::Fitzpatrick17k, "fitzpatrick17k", "fitzpatrick17k-114"},
    {DatasetFormat::Derm7pt, "derm7pt", "derm7pt-20"},
    {DatasetFormat::Ddi, "ddi", "ddi"},
    {DatasetFormat::Derm12345, "derm12345", "derm12345-40"},
    {DatasetFormat::Bcn20000, "bcn20000", "bcn20000"},
    {DatasetFormat::Folder, "folder", ""},
}};

const FormatInfo & info(DatasetFormat format) {
    for (const FormatInfo & entry : kFormats) {
        if (entry.format == format) {
            return entry;
        }
    }
    throw Error(ErrorKind::InvalidArgument, "unknown dataset format");
}

DatasetTable read_table(DatasetFormat format, const std::filesystem::path & source, Derm7ptView view) {
    switch (format) {
        case DatasetFormat::Ham10000: return detail::read_ham10000(source);
        case DatasetFormat::Isic2018: return detail::read_isic2018(source);
        case DatasetFormat::Isic2019: return detail::read_isic2019(source);
        case DatasetFormat::PadUfes20: return detail::read_pad_ufes_20(source);
        case DatasetFormat::Fitzpatrick17k: return detail::read_fitzpatrick17k(source);
        case DatasetFormat::Derm7pt: return detail::read_derm7pt(source, view);
        case DatasetFormat::Ddi: return detail::read_ddi(source);
        case DatasetFormat::Derm12345: return detail::read_derm12345(source);
        case DatasetFormat::Bcn20000: return detail::read_bcn20000(source);
        case DatasetFormat::Folder: return detail::read_folder_tree(source);
    }
    throw Error(ErrorKind::InvalidArgument, "unknown dataset format");
}

// A split the files give is only a split when they give at least two parts: the training
// file alone (ISIC 2019 without its test ground truth) is split seeded instead.
void drop_single_part_split(DatasetTable & table) {
    std::set<std::string> parts;
    for (const DatasetRow & row : table.rows) {
        parts.insert(row.split);
    }
    if (parts.size() < 2 || parts.count("")) {
        for (DatasetRow & row : table.rows) {
            row.split.clear();
        }
        table.split_source.clear();
    }
}

}  // namespace

std::vector<std::string_view> dataset_format_names() {
    std::vector<std::string_view> names;
    for (const FormatInfo & entry : kFormats) {
        names.push_back(entry.name);
    }
    return names;
}

std::string_view dataset_format_name(DatasetFormat format) {
    return info(format).name;
}

DatasetFormat parse_dataset_format(std::string_view name) {
    for (const FormatInfo & entry : kFormats) {
        if (entry.name == name) {
            return entry.format;
        }
    }
    throw Error(ErrorKind::InvalidArgument,
                fmt::format("unknown dataset format '{}' (known: {})", name, fmt::join(dataset_format_names(), ", ")));
}

std::string_view native_label_set(DatasetFormat format) {
    return info(format).native_label_set;
}

Derm7ptView parse_derm7pt_view(std::string_view name) {
    if (name == "both") {
        return Derm7ptView::Both;
    }
    if (name == "clinic") {
        return Derm7ptView::Clinic;
    }
    if (name == "derm") {
        return Derm7ptView::Derm;
    }
    throw Error(ErrorKind::InvalidArgument, fmt::format("Derm7pt view '{}': expected both, clinic or derm", name));
}

DatasetTable read_dataset(DatasetFormat format, const std::filesystem::path & source, Derm7ptView view) {
    DatasetTable table = read_table(format, source, view);
    drop_single_part_split(table);
    return table;
}

dataset::SplitProportions parse_split_ratio(std::string_view text) {
    const auto fail = [&](const char * reason) {
        throw Error(ErrorKind::InvalidArgument,
                    fmt::format("split '{}': {} (expected train:val:test like 6:2:2, train:test like 8:2, or "
                                "train:val:calib:test)",
                                text, reason));
    };
    std::vector<double> parts;
    std::size_t start = 0;
    while (true) {
        const std::size_t end = std::min(text.find(':', start), text.size());
        const std::string_view part = text.substr(start, end - start);
        double value = 0;
        const auto [at, ec] = std::from_chars(part.data(), part.data() + part.size(), value);
        if (part.empty() || ec != std::errc() || at != part.data() + part.size() || !(value >= 0)) {
            fail("each part must be a number >= 0");
        }
        parts.push_back(value);
        if (end == text.size()) {
            break;
        }
        start = end + 1;
    }
    if (parts.size() < 2 || parts.size() > 4) {
        fail("2, 3 or 4 parts");
    }
    const double total = std::accumulate(parts.begin(), parts.end(), 0.0);
    if (parts[0] <= 0 || total <= 0) {
        fail("the training part must be > 0");
    }
    dataset::SplitProportions proportions;
    proportions.train = parts[0] / total;
    proportions.val = parts.size() >= 3 ? parts[1] / total : 0.0;
    proportions.calib = parts.size() == 4 ? parts[2] / total : 0.0;
    proportions.test = parts.back() / total;
    return proportions;
}

}  // namespace dermlens::dataset
