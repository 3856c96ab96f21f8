#include "db/mariadb/mariadb_scratch_server.hpp"

#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <thread>
#include <vector>

#include "db/data_directory.hpp"
#include "db/mariadb/mariadb_connection.hpp"
#include "util/child_process.hpp"
#include "util/error.hpp"
#include "util/subprocess.hpp"

namespace obkeep::db {

namespace fs = std::filesystem;

std::string MariadbScratchServer::binary() {
  for (const char* path : {"/usr/sbin/mariadbd", "/usr/bin/mariadbd", "/usr/sbin/mysqld"})
    if (::access(path, X_OK) == 0) return path;
  return "";
}

void MariadbScratchServer::initialize(const std::string& data_directory) {
  make_new_data_directory(data_directory);
  std::vector<std::string> command = {"mariadb-install-db", "--no-defaults", "--datadir=" + data_directory,
                                      "--auth-root-authentication-method=normal", "--skip-test-db"};
  if (::geteuid() == 0) {
    const passwd* mysql = ::getpwnam("mysql");
    if (!mysql) throw Error("cannot make a MariaDB data directory as root: there is no mysql user to own it");
    if (::chown(data_directory.c_str(), mysql->pw_uid, mysql->pw_gid) != 0)
      throw_system_error("cannot give " + data_directory + " to user mysql", errno);
    command.push_back("--user=mysql");
  }
  run_setup_tool(command, "mariadb-install-db into " + data_directory);
}

MariadbScratchServer::MariadbScratchServer(std::string data_directory) : data_directory_(std::move(data_directory)) {}

MariadbScratchServer::~MariadbScratchServer() { stop(); }

void MariadbScratchServer::start(int timeout_s) {
  std::string server = binary();
  if (server.empty()) throw Error("cannot start the restored MariaDB data directory: no mariadbd on this machine");
  char pattern[] = "/tmp/obkeep-mariadb-XXXXXX";
  if (!::mkdtemp(pattern)) throw_system_error("cannot make a socket directory in /tmp", errno);
  socket_directory_ = pattern;
  bool as_root = ::geteuid() == 0;
  if (as_root) {
    const passwd* mysql = ::getpwnam("mysql");
    if (!mysql) throw Error("cannot start the restored MariaDB data directory as root: there is no mysql user to run it as");
    if (::chown(socket_directory_.c_str(), mysql->pw_uid, mysql->pw_gid) != 0)
      throw_system_error("cannot give " + socket_directory_ + " to mysql", errno);
  }
  std::vector<std::string> arguments = {server,
                                        "--no-defaults",
                                        "--datadir=" + data_directory_,
                                        "--socket=" + socket_directory_ + "/sock",
                                        "--pid-file=" + socket_directory_ + "/pid",
                                        "--log-error=" + socket_directory_ + "/server.log",
                                        "--skip-networking",
                                        "--skip-grant-tables",
                                        "--skip-log-bin",
                                        "--innodb-buffer-pool-size=64M",
                                        "--innodb-flush-log-at-trx-commit=2"};
  if (as_root) arguments.push_back("--user=mysql");
  std::vector<char*> argv;
  for (std::string& argument : arguments) argv.push_back(argument.data());
  argv.push_back(nullptr);
  pid_t pid = ::fork();
  if (pid < 0) throw_system_error("cannot start mariadbd", errno);
  if (pid == 0) {
    int null = ::open("/dev/null", O_RDWR);
    if (null >= 0) {
      ::dup2(null, 0);
      ::dup2(null, 1);
      ::dup2(null, 2);
    }
    ::setpgid(0, 0);  // a terminal's ^C goes to obkeep, which stops the server in order
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  pid_ = pid;
  emergency_kill_ = std::make_unique<EmergencyCleanup>([pid] { ::kill(-pid, SIGKILL); });
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_s);
  for (;;) {
    if (child_ended(pid_)) {
      pid_ = -1;
      std::string reason = last_log_line();
      stop();
      throw Error("the restored MariaDB data directory " + data_directory_ + " did not start: " + reason);
    }
    try {
      MariadbConnection probe(connection(""), "");
      return;
    } catch (const Error&) {
    }
    if (interrupted() || std::chrono::steady_clock::now() > deadline) {
      std::string reason = last_log_line();
      stop();
      throw_if_interrupted();
      throw Error("the restored MariaDB data directory " + data_directory_ + " did not answer within " +
                  std::to_string(timeout_s) + " s: " + reason);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

ConnectionInfo MariadbScratchServer::connection(const std::string& database) const {
  ConnectionInfo info;
  info.engine = "mysql";
  info.host = "localhost";
  info.database = database;
  info.user = "root";
  info.options["unix_socket"] = socket_directory_ + "/sock";
  return info;
}

void MariadbScratchServer::stop() {
  if (pid_ > 0) {
    stop_child(pid_, {{SIGTERM, std::chrono::seconds(30)}});  // a clean shutdown
    pid_ = -1;
  }
  emergency_kill_.reset();
  if (!socket_directory_.empty()) {
    std::error_code ignored;
    fs::remove_all(socket_directory_, ignored);
    socket_directory_.clear();
  }
}

std::string MariadbScratchServer::last_log_line() const {
  std::ifstream log(socket_directory_ + "/server.log");
  std::string line, last, error;
  while (std::getline(log, line)) {
    if (line.empty()) continue;
    last = line;
    if (line.find("[ERROR]") != std::string::npos) error = line;
  }
  return error.empty() ? (last.empty() ? "no log" : last) : error;
}

}  // namespace obkeep::db
