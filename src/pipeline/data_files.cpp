#include "pipeline/data_files.h"

#include "common/data_dir.h"
#include "dermlens/error.h"

#include <fmt/format.h>

#include <fstream>
#include <sstream>

namespace dermlens::pipeline {

std::string read_prompt(std::string_view name) {
    const auto path = data_dir() / "prompts" / (std::string(name) + ".txt");
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        throw Error(ErrorKind::InvalidInput,
                    fmt::format("prompt '{}': cannot read it (set DERMLENS_DATA_DIR to dermlens's data/ folder)",
                                path.string()));
    }
    std::ostringstream text;
    text << in.rdbuf();
    std::string prompt = text.str();
    prompt.erase(prompt.find_last_not_of(" \t\r\n") + 1);
    return prompt;
}

}  // namespace dermlens::pipeline
