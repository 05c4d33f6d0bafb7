#include "pipeline/data_files.h"

#include "common/data_dir.h"
#include "dermlens/error.h"

#include <fmt/format.h>

#include <fstream>
#include <sstream>

namespace dermlens::pipeline {
namespace {

// The text of <data_dir()>/<folder>/<file>; `what` names the kind of file in the error.
std::string read_data_file(std::string_view what, std::string_view folder, const std::string & file) {
    const auto path = data_dir() / folder / file;
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        throw Error(ErrorKind::InvalidInput,
                    fmt::format("{} '{}': cannot read it (set DERMLENS_DATA_DIR to dermlens's data/ folder)", what,
                                path.string()));
    }
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

}  // namespace

std::string read_prompt(std::string_view name) {
    std::string prompt = read_data_file("prompt", "prompts", std::string(name) + ".txt");
    prompt.erase(prompt.find_last_not_of(" \t\r\n") + 1);
    return prompt;
}

std::string read_grammar(std::string_view name) {
    return read_data_file("grammar", "grammars", std::string(name) + ".gbnf");
}

}  // namespace dermlens::pipeline
