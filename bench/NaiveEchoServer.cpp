// A peer for bench/: the naive C++ translation of the classroom server.
// Blocking sockets, one detached std::thread per accepted connection, one
// send() per reply line; the same line protocol as echod (prefix "echo : ",
// '\r' before '\n' dropped, exit -> FIN, half-close echoes the rest). No
// limits, no timeouts, no metrics, no drain: what echod's features are
// measured against. Bench-only.
//   naive-echo-server --port=0   (prints "listening on 127.0.0.1:PORT")
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <csignal>
#include <cstring>
#include <iostream>
#include <string>
#include <string_view>
#include <thread>

namespace {

constexpr std::size_t kMaxLine = 65536;
const std::string kPrefix = "echo : ";

bool sendAll(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t n = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n <= 0) return false;
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

/// One reply, one send. False when the connection is over.
bool answer(int fd, std::string_view line, std::string& reply) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  if (line == "exit") {
    sendAll(fd, "FIN\n");
    return false;
  }
  reply.assign(kPrefix).append(line).push_back('\n');
  return sendAll(fd, reply);
}

void serve(int fd) {
  char buffer[16 * 1024];
  std::string partial;
  std::string reply;
  for (;;) {
    const ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
    if (n <= 0) {
      if (n == 0 && !partial.empty()) answer(fd, partial, reply);
      break;
    }
    std::string_view data(buffer, static_cast<std::size_t>(n));
    bool open = true;
    while (open && !data.empty()) {
      const void* nl = std::memchr(data.data(), '\n', data.size());
      if (nl == nullptr) {
        partial.append(data);
        if (partial.size() > kMaxLine + 1) {
          sendAll(fd, "ERR line too long\n");
          open = false;
        }
        break;
      }
      const auto len = static_cast<std::size_t>(static_cast<const char*>(nl) - data.data());
      if (partial.empty()) {
        open = answer(fd, data.substr(0, len), reply);
      } else {
        partial.append(data.substr(0, len));
        open = answer(fd, partial, reply);
        partial.clear();
      }
      data.remove_prefix(len + 1);
    }
    if (!open) break;
  }
  ::close(fd);
}

}  // namespace

int main(int argc, char** argv) {
  int port = 0;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg.rfind("--port=", 0) == 0) {
      port = std::stoi(arg.substr(7));
    } else {
      std::cerr << "usage: naive-echo-server [--port=N]\n";
      return 64;
    }
  }
  std::signal(SIGPIPE, SIG_IGN);
  const int listener = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  const int one = 1;
  ::setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = htons(static_cast<std::uint16_t>(port));
  socklen_t size = sizeof address;
  if (::bind(listener, reinterpret_cast<sockaddr*>(&address), size) != 0 || ::listen(listener, 4096) != 0 ||
      ::getsockname(listener, reinterpret_cast<sockaddr*>(&address), &size) != 0) {
    std::cerr << "naive-echo-server: cannot listen: " << std::strerror(errno) << '\n';
    return 69;
  }
  std::cerr << "listening on 127.0.0.1:" << ntohs(address.sin_port) << std::endl;
  for (;;) {
    const int fd = ::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    std::thread(serve, fd).detach();  // naive on purpose: the classroom server's shape
  }
}
