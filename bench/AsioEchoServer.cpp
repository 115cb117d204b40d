// The reference for bench/: a minimal asynchronous Boost.Asio echo server
// speaking the same line protocol (prefix "echo : ", '\r' before '\n'
// dropped, exit -> FIN, half-close echoes the rest). One io_context run by
// --threads threads (1: the classic single event loop). Bench-only: no idle
// timeout, no admission control, no drain.
//   asio-echo-server --port=0 --threads=1   (prints "listening on 127.0.0.1:PORT")
#include <boost/asio.hpp>

#include <cstring>
#include <iostream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace asio = boost::asio;
using asio::ip::tcp;

namespace {

constexpr std::size_t kMaxLine = 65536;
const std::string kPrefix = "echo : ";

class Session : public std::enable_shared_from_this<Session> {
 public:
  explicit Session(tcp::socket socket) : _socket(std::move(socket)) {}
  void start() { read(); }

 private:
  void read() {
    auto self = shared_from_this();
    _socket.async_read_some(asio::buffer(_in), [this, self](boost::system::error_code ec, std::size_t n) {
      if (ec == asio::error::eof) {
        if (!_partial.empty()) answer(_partial);
        _partial.clear();
        _closing = true;
        write();
        return;
      }
      if (ec) return;
      process(std::string_view(_in.data(), n));
      write();
    });
  }

  void process(std::string_view data) {
    while (!data.empty() && !_closing) {
      const void* nl = std::memchr(data.data(), '\n', data.size());
      if (nl == nullptr) {
        _partial.append(data);
        if (_partial.size() > kMaxLine + 1) {
          _out += "ERR line too long\n";
          _closing = true;
        }
        return;
      }
      const auto len = static_cast<std::size_t>(static_cast<const char*>(nl) - data.data());
      std::string_view line = data.substr(0, len);
      if (!_partial.empty()) {
        _partial.append(line);
        line = _partial;
      }
      answer(line);
      _partial.clear();
      data.remove_prefix(len + 1);
    }
  }

  void answer(std::string_view line) {
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.size() > kMaxLine) {
      _out += "ERR line too long\n";
      _closing = true;
    } else if (line == "exit") {
      _out += "FIN\n";
      _closing = true;
    } else {
      _out += kPrefix;
      _out += line;
      _out += '\n';
    }
  }

  void write() {
    if (_out.empty()) {
      if (_closing) {
        boost::system::error_code ignored;
        _socket.shutdown(tcp::socket::shutdown_both, ignored);
        return;
      }
      read();
      return;
    }
    _writing.swap(_out);
    auto self = shared_from_this();
    asio::async_write(_socket, asio::buffer(_writing), [this, self](boost::system::error_code ec, std::size_t) {
      if (ec) return;
      _writing.clear();
      write();
    });
  }

  tcp::socket _socket;
  std::array<char, 16384> _in{};
  std::string _partial;
  std::string _out;
  std::string _writing;
  bool _closing = false;
};

void accept(tcp::acceptor& acceptor) {
  acceptor.async_accept([&acceptor](boost::system::error_code ec, tcp::socket socket) {
    if (!ec) {
      socket.set_option(tcp::no_delay(true));
      std::make_shared<Session>(std::move(socket))->start();
    }
    accept(acceptor);
  });
}

std::string optionValue(int argc, char** argv, const std::string& name, const std::string& fallback) {
  const std::string key = "--" + name + "=";
  for (int i = 1; i < argc; ++i) {
    if (std::strncmp(argv[i], key.c_str(), key.size()) == 0) return argv[i] + key.size();
  }
  return fallback;
}

}  // namespace

int main(int argc, char** argv) {
  const auto port = static_cast<unsigned short>(std::stoi(optionValue(argc, argv, "port", "0")));
  const int threads = std::max(1, std::stoi(optionValue(argc, argv, "threads", "1")));
  asio::io_context io(threads);
  tcp::acceptor acceptor(io);
  const tcp::endpoint endpoint(asio::ip::make_address("127.0.0.1"), port);
  acceptor.open(endpoint.protocol());
  acceptor.set_option(tcp::acceptor::reuse_address(true));
  acceptor.bind(endpoint);
  acceptor.listen(4096);
  accept(acceptor);
  asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](auto, int) { io.stop(); });
  std::cerr << "asio-echo-server listening on 127.0.0.1:" << acceptor.local_endpoint().port() << " with " << threads
            << " thread(s)" << std::endl;
  std::vector<std::thread> pool;
  for (int i = 1; i < threads; ++i) pool.emplace_back([&io] { io.run(); });
  io.run();
  for (auto& t : pool) t.join();
  return 0;
}
