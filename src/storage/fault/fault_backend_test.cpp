// The fault-injecting backend: rule syntax, which call fails, and what a failure says.
#include "storage/fault/fault_backend.hpp"

#include <gtest/gtest.h>

#include "storage/mem/memory_backend.hpp"
#include "util/error.hpp"

namespace obkeep::storage {

namespace {
const Handle pack_a{FileType::pack, std::string(64, 'a')};
const Handle pack_b{FileType::pack, std::string(64, 'b')};
const Handle lock_a{FileType::lock, std::string(64, 'c')};
}  // namespace

TEST(FaultBackend, ParsesRulesAndRefusesBadOnesByName) {
  auto rules = parse_fault_rules("save:pack@2=ENOSPC,*@3+=EIO,load@1=hang,remove:lock@4=kill-after");
  ASSERT_EQ(rules.size(), 4u);
  EXPECT_EQ(rules[0].operation, "save");
  EXPECT_EQ(rules[0].type, FileType::pack);
  EXPECT_EQ(rules[0].nth, 2u);
  EXPECT_FALSE(rules[0].and_later);
  EXPECT_EQ(rules[1].operation, "*");
  EXPECT_FALSE(rules[1].type);
  EXPECT_TRUE(rules[1].and_later);
  EXPECT_EQ(rules[2].effect, "hang");
  for (const char* bad : {"save", "save@0=EIO", "save@x=EIO", "write@1=EIO", "save:blob@1=EIO", "save@1=EWHAT"}) {
    try {
      parse_fault_rules(bad);
      ADD_FAILURE() << bad << " was accepted";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ExitCode::usage);
      EXPECT_NE(std::string(e.what()).find(bad), std::string::npos) << e.what();
    }
  }
}

TEST(FaultBackend, FailsExactlyTheNthMatchingCallAndDoesNothingThen) {
  FaultBackend backend(std::make_unique<MemoryBackend>(), parse_fault_rules("save:pack@2=ENOSPC"));
  Bytes data{1, 2, 3};
  backend.save(lock_a, data);  // another type: not counted
  backend.save(pack_a, data);
  try {
    backend.save(pack_b, data);
    FAIL() << "the second pack save succeeded";
  } catch (const Error& e) {
    std::string message = e.what();
    EXPECT_NE(message.find("No space left on device"), std::string::npos) << message;
    EXPECT_NE(message.find(pack_b.name), std::string::npos) << message;
  }
  EXPECT_FALSE(backend.stat(pack_b));  // the failed save stored nothing
  backend.save(pack_b, data);          // the third succeeds
  EXPECT_EQ(backend.load(pack_b, 0, 0), data);
}

// read_into and load_if_present are loads too: a rule on loads reaches them.
TEST(FaultBackend, EveryWayOfReadingIsALoad) {
  FaultBackend backend(std::make_unique<MemoryBackend>(), parse_fault_rules("load:pack@2+=EIO"));
  Bytes data{1, 2, 3, 4};
  backend.save(pack_a, data);
  Bytes into(2);
  backend.read_into(pack_a, 1, into);  // the first load: passes
  EXPECT_EQ(into, (Bytes{2, 3}));
  EXPECT_THROW(backend.read_into(pack_a, 1, into), Error);
  EXPECT_THROW(backend.load_if_present(pack_a), Error);
  EXPECT_THROW(backend.read(pack_a, 0, 1, [](ByteView) {}), Error);
  EXPECT_FALSE(backend.load_if_present(lock_a).has_value());  // another type: not counted, and absent
}

TEST(FaultBackend, AndLaterFailsEveryCallFromTheNth) {
  FaultBackend backend(std::make_unique<MemoryBackend>(), parse_fault_rules("*@2+=EIO"));
  Bytes data{1};
  backend.save(pack_a, data);
  EXPECT_THROW(backend.stat(pack_a), Error);
  EXPECT_THROW(backend.load(pack_a, 0, 0), Error);
  EXPECT_THROW(backend.list(FileType::pack, [](const std::string&, uint64_t) {}), Error);
}

}  // namespace obkeep::storage
