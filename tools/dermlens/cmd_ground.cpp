// dermlens ground abstention | blind | attention --model M --mmproj P --manifest M --out DIR
//   (--labels "a,b" | --label-set NAME | --probe P.probe) [--limit N] [--mask-column C] [--box-column C] ...
// Tests of grounding (docs/grounding.md, "dermlens ground"): does the diagnosis rest on the
// lesion? Each subcommand runs over a manifest and writes its report to --out.
#include "ground_flow.h"

namespace dermlens::cli {

void register_ground(CLI::App & root, std::vector<Command> & commands) {
    auto * ground = root.add_subcommand(
        "ground", "Tests of grounding over a manifest: abstention with the lesion hidden, the photo against a blank "
                  "image, attention on the lesion");
    ground->require_subcommand(1);
    register_ground_abstention(*ground, commands);
    register_ground_blind(*ground, commands);
    register_ground_attention(*ground, commands);
}

}  // namespace dermlens::cli
