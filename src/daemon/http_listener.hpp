// The daemon's HTTP listener (--metrics-listen HOST:PORT): answers GET requests for the
// paths it is given from a thread of its own; each answer is computed when asked, from
// what the daemon last observed, so a slow repository never stalls a scrape.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>

namespace httplib {
class Server;
}

namespace obkeep::daemon {

struct HttpAnswer {
  std::string content_type;
  std::string body;
};

class HttpListener {
 public:
  using Handler = std::function<HttpAnswer()>;

  // Binds HOST:PORT (PORT 0: any free port) and starts serving; throws Error naming the
  // address when it cannot bind.
  HttpListener(const std::string& host_port, std::map<std::string, Handler> handlers);
  ~HttpListener();

  int port() const { return port_; }

 private:
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  std::atomic<bool> finished_{false};  // the serving thread has returned
  int port_ = 0;
};

// "127.0.0.1:9100" → host and port; "[::1]:9100" too. Throws Error naming the text.
std::pair<std::string, int> parse_host_port(const std::string& text);

}  // namespace obkeep::daemon
