#include "connection_watch.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>

namespace dermlens::server {
namespace {

// The address and port of a socket end, as httplib writes them.
bool endpoint(const sockaddr_storage & address, std::string & host, int & port) {
    char text[INET6_ADDRSTRLEN] = {};
    if (address.ss_family == AF_INET) {
        const auto & v4 = reinterpret_cast<const sockaddr_in &>(address);
        inet_ntop(AF_INET, &v4.sin_addr, text, sizeof text);
        port = ntohs(v4.sin_port);
    } else if (address.ss_family == AF_INET6) {
        const auto & v6 = reinterpret_cast<const sockaddr_in6 &>(address);
        inet_ntop(AF_INET6, &v6.sin6_addr, text, sizeof text);
        port = ntohs(v6.sin6_port);
    } else {
        return false;
    }
    host = text;
    return true;
}

bool has_ends(int fd, const std::string & remote_addr, int remote_port, int local_port) {
    struct stat info {};
    if (fstat(fd, &info) != 0 || !S_ISSOCK(info.st_mode)) {
        return false;
    }
    sockaddr_storage peer{}, local{};
    socklen_t peer_size = sizeof peer, local_size = sizeof local;
    if (getpeername(fd, reinterpret_cast<sockaddr *>(&peer), &peer_size) != 0 ||
        getsockname(fd, reinterpret_cast<sockaddr *>(&local), &local_size) != 0) {
        return false;
    }
    std::string peer_host, local_host;
    int peer_port = 0, own_port = 0;
    return endpoint(peer, peer_host, peer_port) && endpoint(local, local_host, own_port) && peer_port == remote_port &&
           own_port == local_port && peer_host == remote_addr;
}

}  // namespace

ConnectionWatch::ConnectionWatch(const std::string & remote_addr, int remote_port, int local_port) {
    std::error_code error;
    for (const auto & entry : std::filesystem::directory_iterator("/proc/self/fd", error)) {
        const int fd = std::atoi(entry.path().filename().c_str());
        if (has_ends(fd, remote_addr, remote_port, local_port)) {
            fd_ = fd;
            return;
        }
    }
}

bool ConnectionWatch::client_gone() const {
    if (fd_ < 0) {
        return false;
    }
    char byte = 0;
    return recv(fd_, &byte, 1, MSG_PEEK | MSG_DONTWAIT) == 0;
}

}  // namespace dermlens::server
