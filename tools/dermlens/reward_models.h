// The models the rewards and the training data take as plain functions (dermlens/rewards.h
// TextGenerator, rewards/trajectory.h ImageTextGenerator), run by an Engine: a text-only Engine as
// SkinFlow's caption judge, a VLM writing Skin-R1 trajectories' image-specific text. Greedy
// decoding, so that scores and exports repeat.
#pragma once

#include "dermlens/engine.h"
#include "dermlens/rewards.h"
#include "rewards/trajectory.h"

namespace dermlens::cli {

rewards::TextGenerator judge_generator(Engine & engine);          // replies under the given grammar
rewards::ImageTextGenerator image_writer(Engine & engine);        // free text about the image, <= 160 tokens

}  // namespace dermlens::cli
