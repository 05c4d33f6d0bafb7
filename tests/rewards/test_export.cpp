// The trainer exports on real images (../shared/data/images/isic9class): every format of every
// task parses row by row, carries the trainer's required fields, points at images that exist, and
// stores ground truth the rewards score back; the same seed gives byte-identical files.
#include "rewards/export.h"

#include "support/shipped_kb.h"
#include "support/expect_error.h"
#include "support/json_lines.h"
#include "support/temp_dir.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <sstream>

namespace dermlens::rewards {
namespace {

namespace fs = std::filesystem;
using test::read_json_lines;
using test::shipped_kb;

const std::vector<std::string> kClasses{"melanoma", "seborrheic_keratosis", "basal_cell_carcinoma", "actinic_keratosis"};

// Three images of each of four classes, the third of each in val; a caption for all but the last.
fs::path write_manifest(const fs::path & dir) {
    const fs::path images = fs::path(DERMLENS_SHARED_DIR) / "data/images/isic9class";
    std::ostringstream csv;
    csv << "image,label,split,caption\n";
    int row = 0;
    for (const auto & label : kClasses) {
        std::vector<fs::path> files;
        for (const auto & entry : fs::directory_iterator(images / label)) {
            files.push_back(entry.path());
        }
        std::sort(files.begin(), files.end());
        for (int i = 0; i < 3; ++i, ++row) {
            const std::string caption = row == 11 ? "" : R"("{""color"": ""brown"", ""shape"": ""round""}")";
            csv << files[static_cast<std::size_t>(i)].string() << "," << label << "," << (i == 2 ? "val" : "train") << ","
                << caption << "\n";
        }
    }
    const fs::path manifest = dir / "manifest.csv";
    std::ofstream(manifest) << csv.str();
    return manifest;
}

std::string read(const fs::path & file) {
    std::ifstream in(file, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

std::string image_of(const nlohmann::json & row, ExportFormat format) {
    const auto & image = row.at("images").at(0);
    return format == ExportFormat::Verl ? image.at("image").get<std::string>() : image.get<std::string>();
}

std::string user_text(const nlohmann::json & row, ExportFormat format, bool sft) {
    if (format == ExportFormat::EasyR1) {
        return row.at("problem").get<std::string>();
    }
    const auto & turns = row.at(sft ? "messages" : "prompt");
    const auto & content = turns.at(0).at("content");
    if (format == ExportFormat::Verl) {
        return content.get<std::string>();
    }
    EXPECT_EQ(content.at(0).at("type"), "image");
    return "<image>" + content.at(1).at("text").get<std::string>();
}

std::string ground_truth(const nlohmann::json & row, ExportFormat format) {
    switch (format) {
        case ExportFormat::Trl: return row.at("ground_truth").get<std::string>();
        case ExportFormat::Verl:
            EXPECT_EQ(row.at("reward_model").at("style"), "rule");
            EXPECT_TRUE(row.contains("ability"));
            return row.at("reward_model").at("ground_truth").get<std::string>();
        case ExportFormat::EasyR1: return row.at("answer").get<std::string>();
    }
    return {};
}

// A reply that answers the item perfectly, to score the stored ground truth back.
std::string perfect_reply(const nlohmann::json & item) {
    if (item["task"] == "mcq") {
        return "<thinking>x</thinking> <final diagnosis>" + item["correct"].get<std::string>() + ", " +
               item["malignancy"].get<std::string>() + "</final diagnosis>";
    }
    if (item["task"] == "topk") {
        return "<answer>{\"top6_diseases\": [{\"disease\": \"" + item["truth"].get<std::string>() + "\"}]}</answer>";
    }
    return item["reference"].dump();
}

TEST(TrainingExport, EveryTaskAndFormatOnSharedImages) {
    test::TempDir dir("export");
    const fs::path manifest = write_manifest(dir.path());
    for (const auto task : {ExportTask::Mcq, ExportTask::Sft, ExportTask::Caption, ExportTask::TopK}) {
        for (const auto format : {ExportFormat::Trl, ExportFormat::Verl, ExportFormat::EasyR1}) {
            if (task == ExportTask::Sft && format == ExportFormat::EasyR1) {
                continue;
            }
            ExportParams params{task, format, manifest, "isic9class", dir.path() / "out.jsonl", 42};
            const auto summary = export_training_data(shipped_kb(), params);
            ASSERT_EQ(summary.files.size(), 2u);
            EXPECT_EQ(summary.files.at("val"), dir.path() / "out.val.jsonl");
            EXPECT_EQ(summary.skipped, task == ExportTask::Caption ? 1u : 0u);
            const bool sft = task == ExportTask::Sft;
            for (const auto & [split, file] : summary.files) {
                const auto rows = read_json_lines(file);
                ASSERT_EQ(rows.size(), summary.rows.at(split));
                for (const auto & row : rows) {
                    SCOPED_TRACE(row.dump().substr(0, 300));
                    EXPECT_TRUE(fs::is_regular_file(image_of(row, format)));
                    EXPECT_EQ(user_text(row, format, sft).rfind("<image>", 0), 0u);
                    EXPECT_EQ(row.at("extra_info").at("split"), split);
                    if (sft) {
                        SkinR1Params tags;
                        tags.answer_tag = "diagnosis";
                        const auto & reply = row.at("messages").at(1).at("content");
                        const std::string text = format == ExportFormat::Trl ? reply.at(0).at("text").get<std::string>()
                                                                              : reply.get<std::string>();
                        EXPECT_EQ(skinr1_format(text, tags), 1.0);
                        continue;
                    }
                    if (format != ExportFormat::EasyR1) {
                        EXPECT_TRUE(format == ExportFormat::Trl || row.contains("data_source"));
                    }
                    const auto item = nlohmann::json::parse(ground_truth(row, format));
                    const std::string reward = row.at("data_source").get<std::string>().substr(9);  // "dermlens/"
                    const auto best = score(shipped_kb(), reward, perfect_reply(item), item);
                    if (task == ExportTask::Mcq) {
                        const auto scores = item["option_scores"].get<std::vector<double>>();
                        const std::size_t correct = static_cast<std::size_t>(item["correct"].get<std::string>()[0] - 'A');
                        EXPECT_EQ(scores[correct], *std::max_element(scores.begin(), scores.end()));
                        EXPECT_EQ(scores.size(), 4u);
                        EXPECT_GT(scores[correct], 0.0);
                        EXPECT_DOUBLE_EQ(best.score, 1.0 + scores[correct] + 0.25);
                        EXPECT_EQ(row.at("extra_info").at(std::string("score_") + item["correct"].get<std::string>()),
                                  scores[correct]);
                    } else if (task == ExportTask::TopK) {
                        EXPECT_DOUBLE_EQ(best.score, 1.0);
                    } else {
                        EXPECT_DOUBLE_EQ(best.score, 10.0);
                    }
                }
            }
        }
    }
}

TEST(TrainingExport, TheSameSeedGivesByteIdenticalFiles) {
    test::TempDir dir("export_seed");
    const fs::path manifest = write_manifest(dir.path());
    const auto exported = [&](std::uint64_t seed, const std::string & name, ExportTask task) {
        ExportParams params{task, ExportFormat::Verl, manifest, "isic9class", dir.path() / name, seed};
        return read(export_training_data(shipped_kb(), params).files.at("train"));
    };
    for (const auto task : {ExportTask::Mcq, ExportTask::Sft}) {
        EXPECT_EQ(exported(7, "a.jsonl", task), exported(7, "b.jsonl", task));
    }
    EXPECT_NE(exported(7, "a.jsonl", ExportTask::Mcq), exported(8, "c.jsonl", ExportTask::Mcq));
}

TEST(TrainingExport, EmbeddedImagesAreDataUris) {
    test::TempDir dir("export_embed");
    ExportParams params{ExportTask::TopK, ExportFormat::Verl, write_manifest(dir.path()), "isic9class",
                        dir.path() / "e.jsonl"};
    params.images = ImageMode::Embed;
    const auto rows = read_json_lines(export_training_data(shipped_kb(), params).files.at("train"));
    EXPECT_EQ(image_of(rows.front(), ExportFormat::Verl).rfind("data:image/jpeg;base64,/9j/", 0), 0u);
}

TEST(TrainingExport, RefusalsNameTheInput) {
    test::TempDir dir("export_bad");
    const fs::path manifest = write_manifest(dir.path());
    ExportParams params{ExportTask::Sft, ExportFormat::EasyR1, manifest, "isic9class", dir.path() / "x.jsonl"};
    test::expect_error([&] { export_training_data(shipped_kb(), params); }, ErrorKind::InvalidArgument, {"easyr1"});
    params = {ExportTask::Caption, ExportFormat::Trl, manifest, "isic9class", dir.path() / "x.jsonl"};
    params.caption_column = "description";
    test::expect_error([&] { export_training_data(shipped_kb(), params); }, ErrorKind::InvalidArgument,
                       {"description"});
    std::ofstream(dir.path() / "bad.csv") << "image,label\n" << DERMLENS_SHARED_DIR << "/data/MANIFEST.csv,not a disease\n";
    params = {ExportTask::TopK, ExportFormat::Trl, dir.path() / "bad.csv", "", dir.path() / "x.jsonl"};
    test::expect_error([&] { export_training_data(shipped_kb(), params); }, ErrorKind::InvalidInput,
                       {"line 2", "not a disease"});
}

}  // namespace
}  // namespace dermlens::rewards
