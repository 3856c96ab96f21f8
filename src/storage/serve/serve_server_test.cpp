// The obkeep serve session against crafted requests: the Backend operations on a
// repository directory, append-only refusals, and a hostile client's malformed frames
// (each answered bad_request and ending the session, never touching a path outside).
#include "storage/serve/serve_server.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>

namespace obkeep::storage::serve {
namespace {

namespace fs = std::filesystem;

std::string id_of(char c) { return std::string(64, c); }

struct Reply {
  uint32_t id = 0;
  Status status = Status::ok;
  Bytes body;
  std::string message;
};

class ServeSessionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/obkeep-serve-test.XXXXXX";
    ASSERT_NE(::mkdtemp(pattern), nullptr);
    directory_ = pattern;
    repository_ = directory_ / "repo";
  }
  void TearDown() override { fs::remove_all(directory_); }

  // A greeted session on the repository; `create` makes the repository first.
  std::unique_ptr<ServeSession> open(bool append_only, bool create = true) {
    ServeOptions options;
    options.repository = repository_;
    options.append_only = append_only;
    auto session = std::make_unique<ServeSession>(options, [this](ByteView frame, ByteView tail) {
      Bytes whole(frame.begin(), frame.end());
      whole.insert(whole.end(), tail.begin(), tail.end());
      FrameReader reader(ByteView(whole).subspan(4));
      EXPECT_EQ(reader.kind(), Kind::reply);
      Reply reply;
      reply.id = reader.u32();
      reply.status = reader.status();
      if (reply.status == Status::ok) {
        ByteView body = reader.rest();
        reply.body.assign(body.begin(), body.end());
      } else {
        reply.message = reader.string();
      }
      replies_.push_back(reply);
    });
    Reply greeting = hello(*session, "");
    EXPECT_EQ(greeting.status, Status::ok) << greeting.message;
    if (create) {
      EXPECT_EQ(request(*session, Kind::create, 2, [](FrameWriter&) {}).status, Status::ok);
    }
    return session;
  }

  void deliver(ServeSession& session, FrameWriter& frame, ByteView tail = {}) {
    ByteView head = frame.finish(static_cast<uint32_t>(tail.size()));
    Bytes whole(head.begin() + 4, head.end());
    whole.insert(whole.end(), tail.begin(), tail.end());
    session.receive(whole, [](std::function<void()> job) { job(); });
  }

  Reply last() {
    EXPECT_FALSE(replies_.empty());
    return replies_.empty() ? Reply{} : replies_.back();
  }

  Reply request(ServeSession& session, Kind kind, uint32_t id, const std::function<void(FrameWriter&)>& fields) {
    FrameWriter frame(kind, id);
    fields(frame);
    deliver(session, frame);
    return last();
  }

  Reply hello(ServeSession& session, const std::string& path, uint32_t version = protocol_version) {
    return request(session, Kind::hello, 1, [&](FrameWriter& w) { w.string(magic).u32(version).string(path); });
  }

  Reply save(ServeSession& session, uint32_t id, const Handle& handle, const std::string& data, size_t piece = 3) {
    FrameWriter begin(Kind::save_begin, id);
    begin.handle(handle).u64(data.size());
    deliver(session, begin);
    for (size_t at = 0; at < data.size(); at += piece) {
      FrameWriter frame(Kind::save_data, id);
      deliver(session, frame, as_bytes(std::string_view(data).substr(at, piece)));
    }
    return last();
  }

  Reply load(ServeSession& session, const Handle& handle, uint64_t offset, uint64_t length) {
    return request(session, Kind::load, 9, [&](FrameWriter& w) { w.handle(handle).u64(offset).u64(length); });
  }

  Reply remove(ServeSession& session, const Handle& handle) {
    return request(session, Kind::remove, 10, [&](FrameWriter& w) { w.handle(handle); });
  }

  // A frame against the protocol: answered bad_request, and the session is to end.
  void expect_bad_request(ServeSession& session, FrameWriter& frame, const std::string& words, ByteView tail = {}) {
    EXPECT_THROW(deliver(session, frame, tail), ProtocolError);
    Reply reply = last();
    EXPECT_EQ(reply.status, Status::bad_request);
    EXPECT_NE(reply.message.find(words), std::string::npos) << reply.message;
  }

  static std::string data_of(const Reply& reply) {
    FrameReader fields(reply.body);
    fields.u64();
    return obkeep::to_string(fields.bytes());
  }

  fs::path directory_, repository_;
  std::vector<Reply> replies_;
};

TEST_F(ServeSessionTest, HelloSaysVersionFlagsAndTheRepository) {
  ServeOptions options{repository_, true, 1};
  ServeSession session(options, [this](ByteView frame, ByteView) {
    FrameReader reader(frame.subspan(4));
    reader.kind();
    Reply reply{reader.u32(), reader.status(), {}, {}};
    ByteView body = reader.rest();
    reply.body.assign(body.begin(), body.end());
    replies_.push_back(reply);
  });
  Reply greeting = hello(session, repository_.string() + "/");
  ASSERT_EQ(greeting.status, Status::ok);
  FrameReader fields(greeting.body);
  EXPECT_EQ(fields.u32(), protocol_version);
  EXPECT_EQ(fields.u32(), flag_append_only);
  EXPECT_EQ(fields.u32(), max_frame_length);
  EXPECT_EQ(fields.string(), repository_.string());
}

TEST_F(ServeSessionTest, AClientNamingAnotherRepositoryIsRefused) {
  ServeOptions options{repository_, false, 1};
  ServeSession session(options, [this](ByteView frame, ByteView) {
    FrameReader reader(frame.subspan(4));
    reader.kind();
    Reply reply{reader.u32(), reader.status(), {}, {}};
    reply.message = reader.string();
    replies_.push_back(reply);
  });
  EXPECT_THROW(hello(session, (directory_ / "other").string()), ProtocolError);
  EXPECT_EQ(last().status, Status::bad_request);
  EXPECT_NE(last().message.find("this server serves " + repository_.string()), std::string::npos) << last().message;
  EXPECT_FALSE(session.greeted());
}

TEST_F(ServeSessionTest, SavesLoadsStatsListsAndRemoves) {
  auto session = open(false);
  Handle pack{FileType::pack, id_of('a')};
  EXPECT_EQ(save(*session, 20, pack, "hello, pack").status, Status::ok);
  EXPECT_EQ(last().id, 20u);
  EXPECT_TRUE(fs::exists(repository_ / "data/aa" / id_of('a')));
  Reply whole = load(*session, pack, 0, 0);
  ASSERT_EQ(whole.status, Status::ok) << whole.message;
  EXPECT_EQ(data_of(whole), "hello, pack");
  EXPECT_EQ(data_of(load(*session, pack, 7, 4)), "pack");
  EXPECT_EQ(data_of(load(*session, pack, 11, 0)), "");
  EXPECT_EQ(load(*session, pack, 8, 4).status, Status::short_object);
  EXPECT_EQ(load(*session, pack, 12, 0).status, Status::short_object);
  EXPECT_EQ(load(*session, pack, ~uint64_t(0), 2).status, Status::short_object);  // no overflow
  EXPECT_EQ(load(*session, Handle{FileType::pack, id_of('b')}, 0, 0).status, Status::not_found);

  Reply stat = request(*session, Kind::stat, 30, [&](FrameWriter& w) { w.handle(pack); });
  EXPECT_EQ(FrameReader(stat.body).u64(), 11u);
  EXPECT_EQ(request(*session, Kind::stat, 31, [&](FrameWriter& w) { w.handle(Handle{FileType::index, id_of('c')}); }).status,
            Status::not_found);

  Reply listed = request(*session, Kind::list, 32, [](FrameWriter& w) { w.u8(static_cast<uint8_t>(FileType::pack)); });
  FrameReader entries(listed.body);
  EXPECT_EQ(entries.u8(), 0);  // no more pages
  EXPECT_EQ(entries.u32(), 1u);
  EXPECT_EQ(entries.string(), id_of('a'));
  EXPECT_EQ(entries.u64(), 11u);

  EXPECT_EQ(remove(*session, pack).status, Status::ok);
  EXPECT_FALSE(fs::exists(repository_ / "data/aa" / id_of('a')));
  Reply not_empty = request(*session, Kind::create, 33, [](FrameWriter&) {});
  EXPECT_EQ(not_empty.status, Status::failed);
  EXPECT_NE(not_empty.message.find("not empty"), std::string::npos) << not_empty.message;
  ASSERT_EQ(save(*session, 34, Handle{FileType::config, "config"}, "c").status, Status::ok);
  EXPECT_EQ(request(*session, Kind::create, 35, [](FrameWriter&) {}).status, Status::exists);
}

TEST_F(ServeSessionTest, LongLoadsComeInPiecesAndLongListingsInPages) {
  auto session = open(false);
  Handle pack{FileType::pack, id_of('d')};
  std::string big(max_data_piece + 10, 'x');
  ASSERT_EQ(save(*session, 20, pack, big, 1 << 20).status, Status::ok);
  Reply first = load(*session, pack, 0, 0);
  FrameReader fields(first.body);
  EXPECT_EQ(fields.u64(), big.size());
  EXPECT_EQ(fields.bytes().size(), max_data_piece);

  for (uint32_t i = 0; i < list_page_entries + 1; ++i) {
    char name[65];
    std::snprintf(name, sizeof name, "%064x", i);
    std::ofstream(repository_ / "locks" / name) << "x";
  }
  size_t before = replies_.size();
  request(*session, Kind::list, 40, [](FrameWriter& w) { w.u8(static_cast<uint8_t>(FileType::lock)); });
  ASSERT_EQ(replies_.size(), before + 2);
  FrameReader page(replies_[before].body);
  EXPECT_EQ(page.u8(), 1);  // more to come
  EXPECT_EQ(page.u32(), list_page_entries);
  FrameReader tail(replies_[before + 1].body);
  EXPECT_EQ(tail.u8(), 0);
  EXPECT_EQ(tail.u32(), 1u);
}

TEST_F(ServeSessionTest, AppendOnlyRefusesRemovesAndOverwrites) {
  auto session = open(true);
  Handle snapshot{FileType::snapshot, id_of('1')};
  ASSERT_EQ(save(*session, 20, snapshot, "snapshot one").status, Status::ok);
  Reply refused = remove(*session, snapshot);
  EXPECT_EQ(refused.status, Status::refused);
  EXPECT_EQ(refused.message, "refused to remove snapshot 11111111…");
  EXPECT_TRUE(fs::exists(repository_ / "snapshots" / id_of('1')));

  // A retried save (same bytes) succeeds; other bytes under the name are refused.
  EXPECT_EQ(save(*session, 21, snapshot, "snapshot one").status, Status::ok);
  Reply overwrite = save(*session, 22, snapshot, "snapshot two");
  EXPECT_EQ(overwrite.status, Status::refused);
  EXPECT_NE(overwrite.message.find("refused to overwrite snapshot 11111111"), std::string::npos);
  EXPECT_EQ(save(*session, 23, snapshot, "snapshot one, longer").status, Status::refused);
  Handle config{FileType::config, "config"};
  ASSERT_EQ(save(*session, 24, config, "c1").status, Status::ok);
  EXPECT_EQ(save(*session, 25, config, "c2").status, Status::refused);
  std::ifstream kept(repository_ / "snapshots" / id_of('1'));
  std::string text;
  std::getline(kept, text);
  EXPECT_EQ(text, "snapshot one");

  // Its own lock may go; another's may not.
  Handle own{FileType::lock, id_of('e')}, other{FileType::lock, id_of('f')};
  ASSERT_EQ(save(*session, 26, own, "lock").status, Status::ok);
  std::ofstream(repository_ / "locks" / id_of('f')) << "lock";
  EXPECT_EQ(remove(*session, own).status, Status::ok);
  EXPECT_FALSE(fs::exists(repository_ / "locks" / id_of('e')));
  EXPECT_EQ(remove(*session, own).status, Status::refused);  // once only
  EXPECT_EQ(remove(*session, other).status, Status::refused);
  EXPECT_TRUE(fs::exists(repository_ / "locks" / id_of('f')));

  std::ofstream(repository_ / "data/00/.tmp-0011223344556677") << "partial";
  EXPECT_EQ(request(*session, Kind::remove_temporaries, 27, [](FrameWriter&) {}).status, Status::refused);
  EXPECT_TRUE(fs::exists(repository_ / "data/00/.tmp-0011223344556677"));
  // Nothing of the refused saves is left behind.
  size_t temporaries = 0;
  for (const auto& entry : fs::recursive_directory_iterator(repository_))
    temporaries += entry.path().filename().string().rfind(".tmp-", 0) == 0;
  EXPECT_EQ(temporaries, 1u);
}

// A repository made before copy records has no copies/: the first record makes it, even
// through an append-only server, and a listing of it before then is empty.
TEST_F(ServeSessionTest, ACopyRecordGoesIntoAnOlderRepository) {
  auto session = open(true);
  fs::remove(repository_ / "copies");
  ASSERT_EQ(request(*session, Kind::list, 30, [](FrameWriter& w) { w.u8(static_cast<uint8_t>(FileType::copy_record)); }).status,
            Status::ok);
  Handle record{FileType::copy_record, id_of('c')};
  ASSERT_EQ(save(*session, 31, record, "sealed record").status, Status::ok);
  EXPECT_TRUE(fs::exists(repository_ / "copies" / id_of('c')));
  EXPECT_EQ(remove(*session, record).status, Status::refused);
}

TEST_F(ServeSessionTest, WithoutAppendOnlyRemovesAndTemporariesGo) {
  auto session = open(false);
  std::ofstream(repository_ / "locks" / id_of('f')) << "lock";
  EXPECT_EQ(remove(*session, Handle{FileType::lock, id_of('f')}).status, Status::ok);
  std::ofstream(repository_ / "data/00/.tmp-0011223344556677") << "partial";
  Reply removed = request(*session, Kind::remove_temporaries, 27, [](FrameWriter&) {});
  ASSERT_EQ(removed.status, Status::ok);
  EXPECT_EQ(FrameReader(removed.body).u64(), 1u);
}

TEST_F(ServeSessionTest, AFailedSaveIsAnsweredOnceItsDataArrived) {
  auto session = open(false, false);  // no repository: no folder for the temporary
  Reply failed = save(*session, 20, Handle{FileType::pack, id_of('a')}, "data");
  EXPECT_EQ(failed.status, Status::failed);
  EXPECT_NE(failed.message.find("cannot create"), std::string::npos) << failed.message;
  EXPECT_EQ(load(*session, Handle{FileType::pack, id_of('a')}, 0, 0).status, Status::not_found);
}

TEST_F(ServeSessionTest, HostileFramesAreBadRequests) {
  auto fresh = [&] {
    ServeOptions options{repository_, true, 1};
    return std::make_unique<ServeSession>(options, [this](ByteView frame, ByteView) {
      FrameReader reader(frame.subspan(4));
      reader.kind();
      Reply reply{reader.u32(), reader.status(), {}, {}};
      if (reply.status != Status::ok) reply.message = reader.string();
      replies_.push_back(reply);
    });
  };
  {
    auto session = fresh();
    FrameWriter early(Kind::stat, 5);
    early.handle(Handle{FileType::pack, id_of('a')});
    expect_bad_request(*session, early, "first request must be hello");
  }
  {
    auto session = fresh();
    FrameWriter bad(Kind::hello, 1);
    bad.string("not-obkeep").u32(1).string("");
    expect_bad_request(*session, bad, "bad magic");
  }
  {
    auto session = fresh();
    FrameWriter old(Kind::hello, 1);
    old.string(magic).u32(0).string("");
    expect_bad_request(*session, old, "version 0");
  }
  auto session = open(true);
  FrameWriter again(Kind::hello, 3);
  again.string(magic).u32(1).string("");
  expect_bad_request(*session, again, "second hello");

  // Names that would leave the repository never reach a path.
  FrameWriter traversal(Kind::load, 4);
  traversal.u8(static_cast<uint8_t>(FileType::pack)).string("../../../../etc/passwd").u64(0).u64(0);
  expect_bad_request(*session, traversal, "invalid pack name");
  FrameWriter type(Kind::stat, 4);
  type.u8(9).string(id_of('a'));
  expect_bad_request(*session, type, "object type 9");
  FrameWriter list(Kind::list, 4);
  list.u8(200);
  expect_bad_request(*session, list, "unknown object type 200");
  FrameWriter unknown(static_cast<Kind>(0x55), 4);
  expect_bad_request(*session, unknown, "unknown request");
  FrameWriter trailing(Kind::stat, 4);
  trailing.handle(Handle{FileType::pack, id_of('a')}).u8(0);
  expect_bad_request(*session, trailing, "trailing");
  FrameWriter truncated(Kind::load, 4);
  truncated.handle(Handle{FileType::pack, id_of('a')}).u32(0);
  expect_bad_request(*session, truncated, "truncated");

  // Uploads: data for none, more than announced, an id twice, too large, too many.
  FrameWriter orphan(Kind::save_data, 77);
  expect_bad_request(*session, orphan, "no open upload", as_bytes("x"));
  FrameWriter begin(Kind::save_begin, 78);
  begin.handle(Handle{FileType::pack, id_of('b')}).u64(2);
  deliver(*session, begin);
  FrameWriter twice(Kind::save_begin, 78);
  twice.handle(Handle{FileType::pack, id_of('c')}).u64(2);
  expect_bad_request(*session, twice, "already an open upload");
  FrameWriter overflow(Kind::save_data, 78);
  expect_bad_request(*session, overflow, "more data than announced", as_bytes("xyz"));
  FrameWriter huge(Kind::save_begin, 79);
  huge.handle(Handle{FileType::pack, id_of('d')}).u64(max_object_size + 1);
  expect_bad_request(*session, huge, "over the limit");
  for (uint32_t id = 100; id < 100 + max_open_uploads - 1; ++id) {
    FrameWriter open(Kind::save_begin, id);
    open.handle(Handle{FileType::pack, id_of('e')}).u64(1);
    deliver(*session, open);
  }
  FrameWriter one_more(Kind::save_begin, 999);
  one_more.handle(Handle{FileType::pack, id_of('e')}).u64(1);
  expect_bad_request(*session, one_more, "uploads open");
  session.reset();  // the session's end removes its unfinished temporaries
  for (const auto& entry : fs::recursive_directory_iterator(repository_))
    EXPECT_NE(entry.path().filename().string().rfind(".tmp-", 0), 0u) << entry.path();
  EXPECT_FALSE(fs::exists(repository_ / "data/bb" / id_of('b')));
}

// The loop over the channel: a clean end, a frame over the limit, and an end mid-frame.
TEST_F(ServeSessionTest, SessionLoopEndsOnMalformedStreams) {
  auto run = [&](const Bytes& input) {
    int in[2], out[2];
    EXPECT_EQ(::pipe(in), 0);
    EXPECT_EQ(::pipe(out), 0);
    EXPECT_EQ(::write(in[1], input.data(), input.size()), static_cast<ssize_t>(input.size()));
    ::close(in[1]);
    std::thread drain([&] {
      char buffer[4096];
      while (::read(out[0], buffer, sizeof buffer) > 0) {
      }
    });
    int code = serve_session(ServeOptions{repository_, true, 2}, in[0], out[1]);
    ::close(out[1]);
    drain.join();
    ::close(in[0]), ::close(out[0]);
    return code;
  };
  FrameWriter greeting(Kind::hello, 1);
  greeting.string(magic).u32(1).string("");
  ByteView hello_frame = greeting.finish();
  Bytes clean(hello_frame.begin(), hello_frame.end());
  EXPECT_EQ(run(clean), 0);
  Bytes over = clean;
  for (uint8_t b : {0xff, 0xff, 0xff, 0xff}) over.push_back(b);
  EXPECT_EQ(run(over), 1);
  Bytes cut(hello_frame.begin(), hello_frame.end() - 2);
  EXPECT_EQ(run(cut), 1);
}

}  // namespace
}  // namespace obkeep::storage::serve
