// The HTTP listener: answers its paths, 404 for others, a clear error when it cannot bind.
#include "daemon/http_listener.hpp"

#include <gtest/gtest.h>
#include <httplib.h>

#include "util/error.hpp"

namespace obkeep::daemon {

TEST(HttpListener, AnswersItsPaths) {
  int asked = 0;
  HttpListener listener("127.0.0.1:0", {{"/metrics", [&] {
                                           asked++;
                                           return HttpAnswer{"text/plain; version=0.0.4", "obkeep_up 1\n"};
                                         }},
                                        {"/fails", []() -> HttpAnswer { throw Error("repository unreachable"); }}});
  ASSERT_GT(listener.port(), 0);
  httplib::Client client("127.0.0.1", listener.port());
  auto metrics = client.Get("/metrics");
  ASSERT_TRUE(metrics);
  EXPECT_EQ(metrics->status, 200);
  EXPECT_EQ(metrics->body, "obkeep_up 1\n");
  EXPECT_EQ(metrics->get_header_value("Content-Type"), "text/plain; version=0.0.4");
  EXPECT_EQ(asked, 1);
  auto missing = client.Get("/nothing");
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 404);
  auto failed = client.Get("/fails");
  ASSERT_TRUE(failed);
  EXPECT_EQ(failed->status, 500);
  EXPECT_EQ(failed->body, "repository unreachable\n");
}

TEST(HttpListener, APortInUseIsAOneLineError) {
  HttpListener first("127.0.0.1:0", {});
  std::string taken = "127.0.0.1:" + std::to_string(first.port());
  try {
    HttpListener second(taken, {});
    FAIL() << "bound twice";
  } catch (const Error& error) {
    EXPECT_EQ(std::string(error.what()), "cannot listen on " + taken + " (--metrics-listen): address in use or not local");
  }
}

TEST(HttpListener, ParsesHostAndPort) {
  EXPECT_EQ(parse_host_port("127.0.0.1:9100"), std::make_pair(std::string("127.0.0.1"), 9100));
  EXPECT_EQ(parse_host_port("[::1]:80"), std::make_pair(std::string("::1"), 80));
  EXPECT_THROW(parse_host_port("9100"), Error);
  EXPECT_THROW(parse_host_port("localhost:"), Error);
  EXPECT_THROW(parse_host_port("localhost:http"), Error);
  EXPECT_THROW(parse_host_port("localhost:70000"), Error);
}

}  // namespace obkeep::daemon
