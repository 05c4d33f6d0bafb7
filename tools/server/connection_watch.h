// Whether the client of a request is still there, so that a request whose client went away is
// cancelled (the Engine's should-stop callback) instead of running to the end for nobody.
//
// Debian's cpp-httplib 0.11 does not hand a handler its socket (later versions have
// Request::is_connection_closed). The handler runs on the thread that owns the connection, and
// the request names both ends of it (local port, remote address and port), so the watch finds
// the one socket of this process with those ends (/proc/self/fd) and peeks at it: a read of 0
// bytes means the client closed its side. Where the socket cannot be found the watch says the
// client is there (the per-request timeout still bounds the call).
#pragma once

#include <string>

namespace dermlens::server {

class ConnectionWatch {
public:
    ConnectionWatch() = default;  // watches nothing: the client is always there
    ConnectionWatch(const std::string & remote_addr, int remote_port, int local_port);
    bool client_gone() const;

private:
    int fd_ = -1;
};

}  // namespace dermlens::server
