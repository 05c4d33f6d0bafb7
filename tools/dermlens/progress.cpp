#include "progress.h"

#include <fmt/format.h>

#include <unistd.h>

#include <cstdio>

namespace dermlens::cli {
namespace {

constexpr int kBarWidth = 28;
constexpr auto kRedrawEvery = std::chrono::milliseconds(100);

std::string duration(double seconds) {
    const auto total = static_cast<long long>(seconds + 0.5);
    if (total >= 3600) {
        return fmt::format("{}:{:02}:{:02}", total / 3600, total / 60 % 60, total % 60);
    }
    return fmt::format("{}:{:02}", total / 60, total % 60);
}

}  // namespace

ProgressLine::ProgressLine(std::string title, std::size_t total, std::string unit, std::chrono::seconds plain_every)
    : title_(std::move(title)),
      total_(total),
      unit_(std::move(unit)),
      plain_every_(plain_every),
      enabled_(::isatty(::fileno(stderr)) == 1),
      last_draw_(std::chrono::steady_clock::now()) {}

ProgressLine::~ProgressLine() {
    if (drawn_) {
        std::fputc('\n', stderr);
    }
}

std::string ProgressLine::line(std::size_t done, const std::string & detail, double rate, std::size_t slow_left) const {
    std::string out = fmt::format("{}/{}  {}", done, total_, detail);
    if (rate > 0) {
        out += fmt::format("  {:.2f} {}/s  ETA {}", rate, unit_, duration(static_cast<double>(slow_left) / rate));
    }
    return out;
}

void ProgressLine::update(std::size_t done, const std::string & detail, double rate, std::size_t slow_left) {
    const auto now = std::chrono::steady_clock::now();
    if (!enabled_) {
        if (plain_every_.count() > 0 && (done == total_ || now - last_draw_ >= plain_every_)) {
            last_draw_ = now;
            std::fprintf(stderr, "%s: %s\n", title_.c_str(), line(done, detail, rate, slow_left).c_str());
        }
        return;
    }
    if (done < total_ && drawn_ && now - last_draw_ < kRedrawEvery) {
        return;
    }
    last_draw_ = now;
    const int filled = total_ == 0 ? kBarWidth : static_cast<int>(kBarWidth * done / total_);
    std::string bar(static_cast<std::size_t>(filled), '=');
    if (filled < kBarWidth) {
        bar += '>';
        bar.append(static_cast<std::size_t>(kBarWidth - filled - 1), ' ');
    }
    // "\x1b[K" clears what a longer previous line left.
    std::fputs(fmt::format("\r{} [{}] {}\x1b[K", title_, bar, line(done, detail, rate, slow_left)).c_str(), stderr);
    std::fflush(stderr);
    drawn_ = true;
}

void ProgressLine::message(const std::string & line) {
    if (drawn_) {
        std::fputs("\r\x1b[K", stderr);
        drawn_ = false;
    }
    std::fprintf(stderr, "%s\n", line.c_str());
}

}  // namespace dermlens::cli
