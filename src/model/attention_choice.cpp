#include "model/attention_choice.h"

#include "common/atomic_file.h"
#include "common/file_lock.h"
#include "dermlens/error.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <thread>

namespace dermlens::model {
namespace {

double median(std::vector<double> values) {
    std::sort(values.begin(), values.end());
    const std::size_t n = values.size();
    return n % 2 == 1 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

nlohmann::json key_json(const AttentionKey & key) {
    return {{"graph", key.graph}, {"cpu", key.cpu}, {"threads", key.threads},
            {"model_sha256", key.model_sha256}, {"shape", key.shape}};
}

// The store's entries; anything unreadable is an empty store (it is a cache).
nlohmann::json read_entries(const std::filesystem::path & file) {
    std::ifstream in(file);
    if (!in) {
        return nlohmann::json::array();
    }
    nlohmann::json doc = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
    if (!doc.is_object() || !doc.contains("decisions") || !doc["decisions"].is_array()) {
        return nlohmann::json::array();
    }
    return doc["decisions"];
}

std::optional<AttentionDecision> decision_of(const nlohmann::json & entry) {
    const auto flash = entry.find("flash");
    const auto flash_ms = entry.find("flash_ms");
    const auto plain_ms = entry.find("plain_ms");
    if (flash == entry.end() || !flash->is_boolean() || flash_ms == entry.end() || !flash_ms->is_number() ||
        plain_ms == entry.end() || !plain_ms->is_number()) {
        return std::nullopt;
    }
    AttentionDecision decision;
    decision.flash = flash->get<bool>();
    decision.remembered = true;
    decision.flash_ms = flash_ms->get<double>();
    decision.plain_ms = plain_ms->get<double>();
    return decision;
}

// The store's lock (waited for: its holders only read and write a small file).
FileLock lock_store(const std::filesystem::path & file) {
    if (std::error_code error; !file.parent_path().empty()) {
        std::filesystem::create_directories(file.parent_path(), error);  // a failure shows in the lock below
    }
    const std::filesystem::path lock_file = file.string() + ".lock";
    for (;;) {
        if (std::optional<FileLock> lock = FileLock::try_acquire(lock_file)) {
            return std::move(*lock);
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
}

void write_entries(const std::filesystem::path & file, const AttentionKey & key, const AttentionDecision & decision) {
    const nlohmann::json wanted = key_json(key);
    nlohmann::json entries = nlohmann::json::array();
    for (auto & entry : read_entries(file)) {
        if (entry.is_object() && entry.value("key", nlohmann::json()) != wanted) {
            entries.push_back(std::move(entry));
        }
    }
    entries.push_back({{"key", wanted},
                       {"flash", decision.flash},
                       {"flash_ms", decision.flash_ms},
                       {"plain_ms", decision.plain_ms},
                       {"flash_rounds", decision.flash_rounds},
                       {"plain_rounds", decision.plain_rounds}});
    write_file_atomically(file, nlohmann::json{{"decisions", entries}}.dump(2) + "\n", "attention-path store");
}

}  // namespace

std::string AttentionDecision::summary() const {
    return fmt::format("{}: flash {:.1f} ms vs plain {:.1f} ms per attention{}", flash ? "on" : "off", flash_ms,
                       plain_ms, not_remembered.empty() ? "" : " (not remembered: " + not_remembered + ")");
}

AttentionDecision measure_attention(const AttentionTimer & time_path, int rounds) {
    if (rounds < 1) {
        throw Error(ErrorKind::InvalidArgument, fmt::format("rounds {}: must be 1 or more", rounds), "rounds");
    }
    time_path(true);  // warm-up: first-touch page faults, thread start-up
    time_path(false);
    AttentionDecision decision;
    for (int round = 0; round < rounds; ++round) {
        const bool flash_first = round % 2 == 0;
        for (const bool flash : {flash_first, !flash_first}) {
            (flash ? decision.flash_rounds : decision.plain_rounds).push_back(time_path(flash));
        }
    }
    decision.flash_ms = median(decision.flash_rounds);
    decision.plain_ms = median(decision.plain_rounds);
    decision.flash = decision.flash_ms < decision.plain_ms;
    return decision;
}

AttentionStore::AttentionStore(std::filesystem::path file) : file_(std::move(file)) {}

std::optional<AttentionDecision> AttentionStore::find(const AttentionKey & key) const {
    const nlohmann::json wanted = key_json(key);
    for (const auto & entry : read_entries(file_)) {
        if (entry.is_object() && entry.value("key", nlohmann::json()) == wanted) {
            return decision_of(entry);
        }
    }
    return std::nullopt;
}

void AttentionStore::remember(const AttentionKey & key, const AttentionDecision & decision) const {
    const FileLock lock = lock_store(file_);
    write_entries(file_, key, decision);
}

AttentionDecision AttentionStore::remember_first(const AttentionKey & key, const AttentionDecision & decision) const {
    const FileLock lock = lock_store(file_);
    if (std::optional<AttentionDecision> first = find(key)) {
        return *first;
    }
    write_entries(file_, key, decision);
    return decision;
}

AttentionDecision choose_attention(const AttentionKey & key, const AttentionStore & store,
                                   const AttentionTimer & time_path, int rounds, bool fresh) {
    if (!fresh) {
        if (std::optional<AttentionDecision> known = store.find(key)) {
            return *known;
        }
    }
    AttentionDecision decision = measure_attention(time_path, rounds);
    try {
        if (fresh) {
            store.remember(key, decision);
            return decision;
        }
        return store.remember_first(key, decision);
    } catch (const Error & e) {
        decision.not_remembered = e.what();
    }
    return decision;
}

}  // namespace dermlens::model
