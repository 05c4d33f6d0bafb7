#include "eval/eval_runner.h"

#include "dermlens/engine.h"
#include "dermlens/error.h"

#include <fmt/format.h>

namespace dermlens::eval {

RunCounts run_plan(const Protocol & protocol, EvalSession & session, RunStore & store, const Shard & shard,
                   const ItemProgress & progress) {
    const std::vector<WorkItem> plan = protocol.plan(session);
    RunCounts counts;
    counts.planned = plan.size();
    std::vector<std::size_t> todo;  // into plan
    for (std::size_t order = 0; order < plan.size(); ++order) {
        if (!in_shard(shard, plan[order].image_ordinal)) {
            continue;
        }
        ++counts.in_shard;
        if (store.contains(plan[order].key)) {
            ++counts.already_done;
        } else {
            todo.push_back(order);
        }
    }
    for (const std::size_t order : todo) {
        const WorkItem & item = plan[order];
        StoredSample sample{item.key, order, {}, std::nullopt};
        std::string failure;
        try {
            sample.record = protocol.run(item, session);
        } catch (const Error & e) {
            if (stops_batch(e)) {
                throw;
            }
            const EvalImage & image = session.dataset().images[item.image];
            sample.record = {{"image", image.image}, {"label", image.label}, {"config", item.config}};
            sample.error = nlohmann::ordered_json{{"kind", error_kind_name(e.kind())}, {"message", e.what()}};
            failure = fmt::format("{}: {}", item.key, e.what());
            ++counts.failed;
        }
        store.add(sample);
        ++counts.ran;
        progress(counts, failure);
    }
    return counts;
}

}  // namespace dermlens::eval
