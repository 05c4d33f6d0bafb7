// POST /v1/chat/completions: waits for Engine::generate (docs/notes/generate-api.md).
#include "server_state.h"

namespace dermlens::server {

void add_chat_route(ServerState &) {}

}  // namespace dermlens::server
