// The status page's data: recovery-point ages as a sawtooth, and text in the data that
// cannot end the script element early.
#include "ops/status_page.hpp"

#include <gtest/gtest.h>

#include "util/host.hpp"

namespace obkeep::ops {

TEST(StatusPage, AgesRiseAndDropToZeroAtEachRecoveryPoint) {
  // Points at 100 s and 160 s, seen over [130 s, 200 s].
  auto ages = recovery_point_ages({100 * second_ns, 160 * second_ns}, 130 * second_ns, 200 * second_ns);
  std::vector<std::pair<int64_t, int64_t>> want = {{130, 30}, {160, 60}, {160, 0}, {200, 40}};
  EXPECT_EQ(ages, want);
  EXPECT_TRUE(recovery_point_ages({}, 0, 100 * second_ns).empty());
  // Before the first point there is no age to draw.
  std::vector<std::pair<int64_t, int64_t>> later = {{50, 0}, {100, 50}};
  EXPECT_EQ(recovery_point_ages({50 * second_ns}, 0, 100 * second_ns), later);
}

TEST(StatusPage, NamesInTheDataCannotCloseTheScript) {
  Objective objective;
  objective.set = "artifacts";
  objective.home = "/opt/</script><script>alert(1)</script>";
  objective.rpo_s = 3600;
  StatusPage page;
  page.now_ns = 1000 * second_ns;
  page.objectives.push_back({&objective, {}});
  std::string html = page.html();
  EXPECT_EQ(html.find("</script><script>alert(1)"), std::string::npos);
  EXPECT_NE(html.find("<\\/script><script>alert(1)<\\/script>"), std::string::npos);
  EXPECT_EQ(page.data()["objectives"][0]["key"], "artifacts//opt/</script><script>alert(1)</script>");
}

}  // namespace obkeep::ops
