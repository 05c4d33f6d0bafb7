// The protocols' factories, for make_protocol (protocol.cpp); each in the file of its paper.
#pragma once

#include "eval/protocol.h"

#include <memory>

namespace dermlens::eval {

std::unique_ptr<Protocol> make_paper000_ablation();  // protocol_paper000.cpp
std::unique_ptr<Protocol> make_paper000_shots();
std::unique_ptr<Protocol> make_paper000_gap();
std::unique_ptr<Protocol> make_skinvl_zeroshot();  // protocol_skinvl.cpp
std::unique_ptr<Protocol> make_probe_sft();
std::unique_ptr<Protocol> make_skinvl_vqa();  // protocol_skinvl_vqa.cpp
std::unique_ptr<Protocol> make_skinr1_mcq();  // protocol_skinr1.cpp
std::unique_ptr<Protocol> make_skinflow_topk();  // protocol_skinflow.cpp
std::unique_ptr<Protocol> make_granularity();  // protocol_granularity.cpp
std::unique_ptr<Protocol> make_fairness();     // protocol_fairness.cpp

}  // namespace dermlens::eval
