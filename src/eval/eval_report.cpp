#include "eval/eval_report.h"

#include "common/atomic_file.h"
#include "dermlens/error.h"

#include <fmt/format.h>
#include <opencv2/imgcodecs.hpp>

#include <algorithm>
#include <cmath>

namespace dermlens::eval {
namespace {

using json = nlohmann::ordered_json;
namespace fs = std::filesystem;

// Generated text can end inside a UTF-8 sequence (the token budget ran out): shown as U+FFFD.
std::string dump(const json & value, int indent = -1) {
    return value.dump(indent, ' ', false, json::error_handler_t::replace);
}

void write_text(const fs::path & path, const std::string & text, ReportFiles & files) {
    write_file_atomically(path, text, "report file");
    files.written.push_back(path);
}

std::string samples_jsonl(const std::vector<StoredSample> & samples) {
    std::string out;
    for (const StoredSample & sample : samples) {
        json line = {{"key", sample.key}};
        line.update(sample.record);
        if (sample.error) {
            line["error"] = *sample.error;
        }
        out += dump(line) + "\n";
    }
    return out;
}

std::string group_name(const json & config) {
    std::string out;
    for (const auto & [key, value] : config.items()) {
        out += fmt::format("{}{}={}", out.empty() ? "" : " ", key, value.is_string() ? value.get<std::string>() : value.dump());
    }
    return out;
}

std::string csv_number(double value) {
    return std::isfinite(value) ? fmt::format("{:.6f}", value) : "";
}

std::string summary_csv(const std::vector<GroupSummary> & groups) {
    std::string out = "group,metric,mean,std,ci95_low,ci95_high,seeds,samples,failed\n";
    for (const GroupSummary & group : groups) {
        for (const MetricValue & metric : group.metrics) {
            out += fmt::format("\"{}\",{},{},{},{},{},{},{},{}\n", group_name(group.config), metric.name,
                               csv_number(metric.mean), csv_number(metric.std),
                               metric.interval ? csv_number(metric.interval->low) : "",
                               metric.interval ? csv_number(metric.interval->high) : "", group.seeds, group.samples,
                               group.failed);
        }
    }
    return out;
}

json tables_json(const std::vector<ReportTable> & tables) {
    json out = json::array();
    for (const ReportTable & table : tables) {
        out.push_back({{"title", table.title}, {"caption", table.caption}, {"header", table.header}, {"rows", table.rows}});
    }
    return out;
}

std::string markdown_table(const ReportTable & table) {
    const auto row = [](const std::vector<std::string> & cells) {
        std::string out = "|";
        for (const std::string & cell : cells) {
            out += " " + cell + " |";
        }
        return out + "\n";
    };
    std::string out = fmt::format("### {}\n\n{}\n\n", table.title, table.caption);
    out += row(table.header);
    out += row(std::vector<std::string>(table.header.size(), "---"));
    for (const auto & cells : table.rows) {
        out += row(cells);
    }
    return out + "\n";
}

std::string markdown_report(const Protocol & protocol, const EvalSession & session, const ProtocolReport & report,
                            const std::vector<StoredSample> & samples) {
    const EvalParams & params = session.params();
    const auto failed = std::count_if(samples.begin(), samples.end(), [](const StoredSample & s) { return s.error.has_value(); });
    std::string out = fmt::format("# dermlens eval: {}\n\n{}.\n\n", protocol.name(), protocol.description());
    if (params.is_vqa()) {
        out += fmt::format("- questions: `{}`, {} about {} images of {} modalities; {} images evaluated\n",
                           params.manifest.string(), session.vqa().questions.size(), session.dataset().images.size(),
                           session.dataset().classes.size(), evaluated_images(samples));
    } else {
        out += fmt::format("- dataset: `{}`, label set `{}`, {} classes; {} of the {} test images{}\n",
                           params.manifest.string(), params.label_set, session.dataset().classes.size(),
                           evaluated_images(samples), session.dataset().rows_of_split("test").size(),
                           session.dataset().split_generated ? " (seeded split, grouped by patient)"
                                                             : " (the manifest's split)");
    }
    out += fmt::format("- model: `{}`, projector `{}`\n", params.vlm.model_path.filename().string(),
                       params.vlm.mmproj_path.filename().string());
    out += fmt::format("- runs: {} (seeds {} .. {}), prompt style `{}`, decision `{}`\n", params.seeds, params.seed,
                       params.seed + params.seeds - 1, pipeline::style_name(params.style),
                       pipeline::decide_mode_name(params.decide));
    out += fmt::format("- samples: {} stored, {} failed (see samples.jsonl)\n\n", samples.size(), failed);
    for (const ReportTable & table : report.tables) {
        out += markdown_table(table);
    }
    for (const ReportPlot & plot : report.plots) {
        out += fmt::format("![{}]({})\n\n", plot.caption, plot.file);
    }
    return out;
}

}  // namespace

ReportFiles write_run_report(const fs::path & dir, const Protocol & protocol, const EvalSession & session,
                             const RunStore & store) {
    const std::vector<StoredSample> samples = store.samples();
    const ProtocolReport report = protocol.summarise(session, samples);
    const auto failed = std::count_if(samples.begin(), samples.end(), [](const StoredSample & s) { return s.error.has_value(); });
    ReportFiles files;
    write_text(dir / "samples.jsonl", samples_jsonl(samples), files);
    const json summary = {{"protocol", protocol.name()},
                          {"settings", store.settings()},
                          {"samples", samples.size()},
                          {"failed", failed},
                          {"groups", to_json(report.groups)},
                          {"tables", tables_json(report.tables)}};
    write_text(dir / "summary.json", dump(summary, 2) + "\n", files);
    write_text(dir / "summary.csv", summary_csv(report.groups), files);
    write_text(dir / "report.md", markdown_report(protocol, session, report, samples), files);
    for (const ReportPlot & plot : report.plots) {
        const fs::path path = dir / plot.file;
        std::vector<unsigned char> png;
        if (!cv::imencode(".png", plot.image, png)) {
            throw Error(ErrorKind::Runtime, fmt::format("report plot '{}': OpenCV could not encode it", path.string()));
        }
        write_file_atomically(path, {reinterpret_cast<const char *>(png.data()), png.size()}, "report plot");
        files.written.push_back(path);
    }
    return files;
}

}  // namespace dermlens::eval
