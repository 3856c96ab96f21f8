#include "db/postgres/pg_scratch_server.hpp"

#include "util/child_process.hpp"

#include <fcntl.h>
#include <grp.h>
#include <libpq-fe.h>
#include <pwd.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <thread>
#include <vector>

#include "db/data_directory.hpp"
#include "util/error.hpp"
#include "util/interrupt.hpp"
#include "util/subprocess.hpp"

namespace obkeep::db {

namespace fs = std::filesystem;

namespace {

// The unix socket's port number: only a file name here, since nothing listens on TCP.
constexpr int socket_port = 5432;

void write_file(const fs::path& path, const std::string& content) {
  std::ofstream out(path);
  out << content;
  if (!out.flush()) throw Error("cannot write " + path.string());
}

// Whether the child ended; reaps it.

}  // namespace

std::string PgScratchServer::binaries_for(const std::string& server_version) {
  std::string major;
  for (char c : server_version) {
    if (!std::isdigit(static_cast<unsigned char>(c))) break;
    major += c;
  }
  if (major.empty()) return "";
  std::string directory = "/usr/lib/postgresql/" + major + "/bin";
  return ::access((directory + "/postgres").c_str(), X_OK) == 0 ? directory : "";
}

void PgScratchServer::initialize(const std::string& data_directory, const std::string& bin_directory) {
  make_new_data_directory(data_directory);
  std::vector<std::string> command = {bin_directory + "/initdb", "-D", data_directory, "-U", "postgres",
                                      "--auth-local=peer", "--auth-host=scram-sha-256", "-E", "UTF8", "--no-locale"};
  if (::geteuid() == 0) {
    const passwd* postgres = ::getpwnam("postgres");
    if (!postgres) throw Error("cannot make a PostgreSQL data directory as root: there is no postgres user to own it");
    if (::chown(data_directory.c_str(), postgres->pw_uid, postgres->pw_gid) != 0)
      throw_system_error("cannot give " + data_directory + " to user postgres", errno);
    command.insert(command.begin(), {"runuser", "-u", "postgres", "--"});
  }
  run_setup_tool(command, "initdb into " + data_directory);
}

PgScratchServer::PgScratchServer(std::string data_directory, std::string bin_directory)
    : data_directory_(std::move(data_directory)), bin_directory_(std::move(bin_directory)) {}

PgScratchServer::~PgScratchServer() { stop(); }

void PgScratchServer::start(int timeout_s) {
  uid_t uid = ::geteuid();
  gid_t gid = ::getegid();
  bool as_root = uid == 0;
  if (as_root) {
    // PostgreSQL refuses to run as root.
    const passwd* user = ::getpwnam("postgres");
    if (!user) throw Error("cannot start the restored PostgreSQL cluster: running as root and there is no postgres user to run it as");
    uid = user->pw_uid;
    gid = user->pw_gid;
  }
  char pattern[] = "/tmp/obkeep-pg-XXXXXX";
  if (!::mkdtemp(pattern)) throw Error(std::string("cannot make a socket directory in /tmp: ") + std::strerror(errno));
  socket_directory_ = pattern;
  const fs::path own(socket_directory_);
  write_file(own / "postgresql.conf", "# obkeep drill: everything is given on the command line\n");
  write_file(own / "pg_hba.conf", "local all all trust\n");
  write_file(own / "pg_ident.conf", "");
  std::error_code ignored;
  fs::remove(fs::path(data_directory_) / "postmaster.pid", ignored);  // a backup holds none; be sure
  if (as_root) {
    for (const fs::path& path : {own, own / "postgresql.conf", own / "pg_hba.conf", own / "pg_ident.conf"})
      if (::lchown(path.c_str(), uid, gid) != 0) throw Error("cannot give " + path.string() + " to postgres: " + std::strerror(errno));
    if (::lchown(data_directory_.c_str(), uid, gid) != 0)
      throw Error("cannot give " + data_directory_ + " to postgres: " + std::strerror(errno));
    for (const auto& entry : fs::recursive_directory_iterator(data_directory_))
      if (::lchown(entry.path().c_str(), uid, gid) != 0)
        throw Error("cannot give " + entry.path().string() + " to postgres: " + std::strerror(errno));
  }
  ::chmod(data_directory_.c_str(), 0700);  // the server insists

  std::string log_path = socket_directory_ + "/server.log";
  int log = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (log < 0) throw Error("cannot create " + log_path + ": " + std::strerror(errno));
  if (as_root && ::fchown(log, uid, gid) != 0) {
    ::close(log);
    throw Error("cannot give " + log_path + " to postgres: " + std::strerror(errno));
  }
  // The command line outranks postgresql.auto.conf, which the source's ALTER SYSTEM (and a
  // restore's recovery settings) may have filled.
  std::vector<std::string> arguments = {bin_directory_ + "/postgres", "-D", data_directory_};
  for (const std::string& setting :
       {"config_file=" + socket_directory_ + "/postgresql.conf", "hba_file=" + socket_directory_ + "/pg_hba.conf",
        "ident_file=" + socket_directory_ + "/pg_ident.conf", std::string("listen_addresses="),
        "port=" + std::to_string(socket_port), "unix_socket_directories=" + socket_directory_,
        std::string("archive_mode=off"), std::string("restore_command="), std::string("shared_buffers=32MB"),
        std::string("max_connections=20"), std::string("fsync=off"), std::string("logging_collector=off"),
        std::string("shared_preload_libraries=")}) {
    arguments.push_back("-c");
    arguments.push_back(setting);
  }
  std::vector<char*> argv;
  for (std::string& argument : arguments) argv.push_back(argument.data());
  argv.push_back(nullptr);
  pid_t pid = ::fork();
  if (pid < 0) {
    ::close(log);
    throw Error(std::string("cannot start PostgreSQL: fork: ") + std::strerror(errno));
  }
  if (pid == 0) {
    // Only async-signal-safe calls between fork and exec: the parent has threads.
    int null = ::open("/dev/null", O_RDONLY);
    if (null >= 0) ::dup2(null, 0);
    ::dup2(log, 1);
    ::dup2(log, 2);
    ::setpgid(0, 0);  // a terminal's ^C goes to obkeep, which stops the server in order
    if (as_root && (::setgroups(0, nullptr) != 0 || ::setgid(gid) != 0 || ::setuid(uid) != 0)) ::_exit(126);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  ::close(log);
  pid_ = pid;
  // If the watchdog must end obkeep before the stack unwinds, the server goes with it.
  emergency_kill_ = std::make_unique<EmergencyCleanup>([pid] { ::kill(-pid, SIGKILL); });

  std::string conninfo = "host=" + socket_directory_ + " port=" + std::to_string(socket_port) + " dbname=postgres connect_timeout=2";
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_s);
  for (;;) {
    if (child_ended(pid_)) {
      pid_ = -1;
      throw Error("the restored PostgreSQL cluster in " + data_directory_ + " did not start: " + last_log_line());
    }
    if (PQping(conninfo.c_str()) == PQPING_OK) return;
    if (interrupted()) {
      stop();
      throw_if_interrupted();
    }
    if (std::chrono::steady_clock::now() > deadline) {
      std::string reason = last_log_line();
      stop();
      throw Error("the restored PostgreSQL cluster in " + data_directory_ + " did not accept connections within " +
                  std::to_string(timeout_s) + " s: " + reason);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

ConnectionInfo PgScratchServer::connection(const std::string& database, const std::string& user) const {
  ConnectionInfo info;
  info.engine = "postgresql";
  info.host = socket_directory_;
  info.port = socket_port;
  info.database = database;
  info.user = user;
  return info;
}

void PgScratchServer::stop() {
  if (pid_ > 0) {
    // Fast shutdown (SIGINT), then immediate (SIGQUIT), then SIGKILL.
    stop_child(pid_, {{SIGINT, std::chrono::seconds(20)}, {SIGQUIT, std::chrono::seconds(5)}});
    pid_ = -1;
  }
  emergency_kill_.reset();
  if (!socket_directory_.empty()) {
    std::error_code ignored;
    fs::remove_all(socket_directory_, ignored);
    socket_directory_.clear();
  }
}

std::string PgScratchServer::last_log_line() const {
  // The last FATAL or PANIC line; else what follows the last LOG line (the server prints
  // some reasons, "could not find the database system", before its logging starts, over
  // several lines), joined into one.
  std::ifstream log(socket_directory_ + "/server.log");
  std::string line, fatal;
  std::vector<std::string> tail;
  while (std::getline(log, line)) {
    if (line.empty()) continue;
    for (const char* level : {"FATAL:", "PANIC:"})
      if (size_t at = line.find(level); at != std::string::npos) fatal = line.substr(at);
    if (line.find("LOG:") != std::string::npos) tail.clear();
    tail.push_back(line);
  }
  if (!fatal.empty()) return fatal;
  std::string joined;
  for (size_t i = tail.size() > 4 ? tail.size() - 4 : 0; i < tail.size(); ++i) {
    std::string part = tail[i];
    if (size_t at = part.find("LOG:"); at != std::string::npos) part = part.substr(at);
    joined += (joined.empty() ? "" : " ") + part;
  }
  return joined.empty() ? "the server wrote nothing" : joined;
}

}  // namespace obkeep::db
