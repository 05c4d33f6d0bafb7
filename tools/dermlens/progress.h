// A one-line progress bar on stderr, redrawn in place ("\r"), for long loops over images.
// Silent when stderr is not a terminal, so logs and test captures stay clean.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>

namespace dermlens::cli {

class ProgressLine {
public:
    ProgressLine(std::string title, std::size_t total);  // draws only when stderr is a TTY
    ~ProgressLine();                                     // ends the line if one was drawn
    ProgressLine(const ProgressLine &) = delete;
    ProgressLine & operator=(const ProgressLine &) = delete;

    // `done` of `total` items; `detail` follows the bar (counts); `rate` is items per second
    // of the slow kind (0 hides it) and gives the ETA for `slow_left` such items.
    void update(std::size_t done, const std::string & detail, double rate, std::size_t slow_left);

    // Prints `line` on stderr on a line of its own (clearing the bar, which the next update redraws).
    void message(const std::string & line);

private:
    std::string title_;
    std::size_t total_;
    bool enabled_;
    bool drawn_ = false;
    std::chrono::steady_clock::time_point last_draw_{};
};

}  // namespace dermlens::cli
