// dermlens eval merge --out DIR [RUN...]
// Combines the runs of one evaluation split with --shard (run folders or their run.sqlite)
// into DIR/run.sqlite and writes DIR's reports as `eval` would have for one unsharded run.
// Without RUNs, the runs are DIR's shard folders (DIR/shard-i-of-n, as `--shard auto` writes
// them), which must form a whole, finished set. The runs must have the same settings; a sample
// stored by two of them must be the same.
#include "commands.h"

#include "dermlens/error.h"
#include "eval/eval_report.h"
#include "eval/shard_runs.h"

#include <fmt/format.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>

namespace dermlens::cli {
namespace {

namespace fs = std::filesystem;

struct MergeOptions {
    std::string out;
    std::vector<std::string> runs;
};

fs::path store_file(const std::string & run) {
    return fs::is_directory(run) ? fs::path(run) / "run.sqlite" : fs::path(run);
}

// The stores to combine: the RUNs given, else --out's shard folders.
std::vector<fs::path> input_stores(const MergeOptions & options) {
    if (options.runs.empty()) {
        return eval::complete_shard_stores(options.out);
    }
    if (options.runs.size() < 2) {
        throw Error(ErrorKind::InvalidArgument,
                    "eval merge: give two or more runs to combine, or none to combine --out's shard folders");
    }
    std::vector<fs::path> stores;
    for (const std::string & run : options.runs) {
        stores.push_back(store_file(run));
    }
    return stores;
}

int run_merge(const MergeOptions & options) {
    const std::vector<fs::path> stores = input_stores(options);
    const fs::path out = options.out;
    const std::size_t samples = eval::merge_stores(stores, out / "run.sqlite", {});
    const eval::RunStore store = eval::RunStore::open(out / "run.sqlite");
    eval::EvalSession session(eval::EvalParams::from_settings(store.settings()));
    const auto protocol = eval::make_protocol(session.params().protocol);
    const eval::ReportFiles files = eval::write_run_report(out, *protocol, session, store);
    std::ifstream report(out / "report.md");
    std::stringstream text;
    text << report.rdbuf();
    std::fputs(text.str().c_str(), stdout);
    std::fprintf(stderr, "eval merge: %zu runs, %zu samples; wrote %zu files to %s\n", stores.size(), samples,
                 files.written.size(), out.c_str());
    return 0;
}

}  // namespace

void register_eval_merge(CLI::App & eval, std::vector<Command> & commands) {
    auto options = std::make_shared<MergeOptions>();
    auto * app = eval.add_subcommand("merge", "Combine the runs of one evaluation split with --shard and write their reports");
    app->add_option("--out", options->out,
                    "Run folder of the combined run (created); without RUNs, the root whose shard-i-of-n folders "
                    "(from --shard auto) are combined")
        ->required();
    app->add_option("runs", options->runs, "Run folders (or their run.sqlite files) of the shards");
    commands.push_back({app, [options] { return run_merge(*options); }});
}

}  // namespace dermlens::cli
