#include "daemon/http_listener.hpp"

#include <httplib.h>
#include <sys/socket.h>

#include <chrono>

#include "util/error.hpp"

namespace obkeep::daemon {

std::pair<std::string, int> parse_host_port(const std::string& text) {
  size_t colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == text.size())
    throw Error("--metrics-listen: want HOST:PORT, got \"" + text + "\"", ExitCode::usage);
  std::string host = text.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  int port = -1;
  try {
    size_t used = 0;
    port = std::stoi(text.substr(colon + 1), &used);
    if (used != text.size() - colon - 1) port = -1;
  } catch (const std::exception&) {
  }
  if (port < 0 || port > 65535) throw Error("--metrics-listen: bad port in \"" + text + "\"", ExitCode::usage);
  return {host, port};
}

HttpListener::HttpListener(const std::string& host_port, std::map<std::string, Handler> handlers)
    : server_(std::make_unique<httplib::Server>()) {
  auto [host, port] = parse_host_port(host_port);
  for (auto& entry : handlers) {
    Handler handler = entry.second;
    server_->Get(entry.first, [handler](const httplib::Request&, httplib::Response& response) {
      try {
        HttpAnswer answer = handler();
        response.set_content(answer.body, answer.content_type.c_str());
      } catch (const std::exception& error) {
        response.status = 500;
        response.set_content(std::string(error.what()) + "\n", "text/plain");
      }
    });
  }
  // cpp-httplib's default adds SO_REUSEPORT, which would let a second daemon share the
  // port silently; a port in use must be an error.
  server_->set_socket_options([](int socket) {
    int yes = 1;
    ::setsockopt(socket, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
  });
  server_->set_read_timeout(5, 0);
  server_->set_write_timeout(5, 0);
  if (port == 0) {
    port_ = server_->bind_to_any_port(host);
  } else if (server_->bind_to_port(host, port)) {
    port_ = port;
  } else {
    port_ = -1;
  }
  if (port_ < 0) throw Error("cannot listen on " + host_port + " (--metrics-listen): address in use or not local");
  thread_ = std::thread([this] {
    server_->listen_after_bind();
    finished_ = true;
  });
  // stop() only ends a server already in its accept loop: one asked to stop before the
  // thread got there would then serve forever, and the destructor's join never return.
  for (int waited_ms = 0; waited_ms < 10000 && !server_->is_running() && !finished_; waited_ms += 5)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
}

HttpListener::~HttpListener() {
  server_->stop();
  if (thread_.joinable()) thread_.join();
}

}  // namespace obkeep::daemon
