// Folder-per-class trees (SD-260, DermNet, the ISIC 9-class set): one folder of images per
// class, optionally under train/ val/ calib/ test/ folders, read as the manifest reads them.
#include "dataset/dataset_csv.h"

namespace dermlens::dataset::detail {

DatasetTable read_folder_tree(const std::filesystem::path & source) {
    const Manifest tree = read_manifest_folder(source);
    TableBuilder table;
    bool split_folders = false;
    for (const ManifestRow & entry : tree.rows) {
        DatasetRow row;
        row.image = entry.image.lexically_relative(tree.source).generic_string();
        row.label = entry.label;
        row.split = entry.split;
        row.file = entry.image.parent_path();
        split_folders = split_folders || !entry.split.empty();
        table.add(std::move(row), {});
    }
    return table.finish(tree.source, "", split_folders ? "split folders" : "");
}

}  // namespace dermlens::dataset::detail
