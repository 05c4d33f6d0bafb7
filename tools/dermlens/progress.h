// A one-line progress bar on stderr, redrawn in place ("\r"), for long loops over images.
// When stderr is not a terminal: silent, so logs and test captures stay clean, or — for runs
// that last hours and go to a log — a plain line every `plain_every` and at the end.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>

namespace dermlens::cli {

class ProgressLine {
public:
    ProgressLine(std::string title, std::size_t total, std::string unit = "img",
                 std::chrono::seconds plain_every = std::chrono::seconds::zero());
    ~ProgressLine();                                     // ends the line if one was drawn
    ProgressLine(const ProgressLine &) = delete;
    ProgressLine & operator=(const ProgressLine &) = delete;

    // `done` of `total` items; `detail` follows the bar (counts); `rate` is items per second
    // of the slow kind (0 hides it; in `unit`s per second) and gives the ETA for `slow_left` such items.
    void update(std::size_t done, const std::string & detail, double rate, std::size_t slow_left);

    // Prints `line` on stderr on a line of its own (clearing the bar, which the next update redraws).
    void message(const std::string & line);

private:
    std::string line(std::size_t done, const std::string & detail, double rate, std::size_t slow_left) const;

    std::string title_;
    std::size_t total_;
    std::string unit_;
    std::chrono::seconds plain_every_;
    bool enabled_;
    bool drawn_ = false;
    std::chrono::steady_clock::time_point last_draw_{};
};

}  // namespace dermlens::cli
