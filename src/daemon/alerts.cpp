#include "daemon/alerts.hpp"

#include <curl/curl.h>

#include <cstring>

#include "util/error.hpp"
#include "util/subprocess.hpp"

namespace obkeep::daemon {

std::vector<std::string> Alerts::send(const nlohmann::json& event) const {
  std::string body = event.dump();
  std::vector<std::string> failures;
  if (!targets_.command.empty()) {
    std::string failure = run_command(body);
    if (!failure.empty()) failures.push_back("alert command: " + failure);
  }
  if (!targets_.webhook.empty()) {
    std::string failure = post_webhook(body);
    if (!failure.empty()) failures.push_back("alert webhook " + targets_.webhook + ": " + failure);
  }
  return failures;
}

std::string Alerts::run_command(const std::string& body) const {
  size_t sent = 0;
  auto fill = [&](uint8_t* out, size_t room) {
    size_t n = std::min(room, body.size() - sent);
    std::memcpy(out, body.data() + sent, n);
    sent += n;
    return n;
  };
  try {
    SubprocessResult result =
        run_subprocess({"/bin/sh", "-c", targets_.command}, {}, [](ByteView) {}, fill, targets_.timeout_s * 1000);
    if (result.timed_out) return "still running after " + std::to_string(targets_.timeout_s) + " s, ended";
    if (result.exit_code != 0)
      return "exit " + std::to_string(result.exit_code) + (result.stderr_tail.empty() ? "" : ": " + result.stderr_tail);
  } catch (const std::exception& error) {
    return error.what();
  }
  return "";
}

std::string Alerts::post_webhook(const std::string& body) const {
  CURL* curl = curl_easy_init();
  if (!curl) return "cannot start an HTTP client";
  curl_slist* headers = curl_slist_append(nullptr, "Content-Type: application/json");
  char error[CURL_ERROR_SIZE] = "";
  curl_easy_setopt(curl, CURLOPT_URL, targets_.webhook.c_str());
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.c_str());
  curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
  curl_easy_setopt(curl, CURLOPT_TIMEOUT, static_cast<long>(targets_.timeout_s));
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, static_cast<long>(targets_.timeout_s));
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, +[](char*, size_t size, size_t count, void*) { return size * count; });
  CURLcode code = curl_easy_perform(curl);
  long status = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
  curl_slist_free_all(headers);
  curl_easy_cleanup(curl);
  if (code != CURLE_OK) return error[0] ? error : curl_easy_strerror(code);
  if (status < 200 || status >= 300) return "HTTP " + std::to_string(status);
  return "";
}

}  // namespace obkeep::daemon
