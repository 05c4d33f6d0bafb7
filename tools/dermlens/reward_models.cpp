#include "reward_models.h"

namespace dermlens::cli {
namespace {

constexpr int kJudgeMaxTokens = 160;   // 12 fields of at most "10": well under 160 tokens
constexpr int kWriterMaxTokens = 160;  // two or three sentences, as the prompts ask

}  // namespace

rewards::TextGenerator judge_generator(Engine & engine) {
    return [&engine](const std::string & prompt, const std::string & grammar) {
        GenerateRequest request;
        request.messages = {{"user", prompt}};
        request.grammar = grammar;
        request.max_tokens = kJudgeMaxTokens;
        return engine.generate(request).text;
    };
}

rewards::ImageTextGenerator image_writer(Engine & engine) {
    return [&engine](const std::string & prompt, const std::filesystem::path & image) {
        GenerateRequest request;
        request.messages = {{"user", prompt}};
        request.image = Image::from_file(image);
        request.max_tokens = kWriterMaxTokens;
        return engine.generate(request).text;
    };
}

}  // namespace dermlens::cli
