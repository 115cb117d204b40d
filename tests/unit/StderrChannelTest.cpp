// StderrChannel: `information` lines are buffered and leave together, a
// `notice` line takes everything before it out at once, the buffer is
// bounded, order is kept, close() writes the rest. Through a real pipe.
#include "service/logging/StderrChannel.h"

#include <Poco/AutoPtr.h>
#include <Poco/Message.h>
#include <Poco/PatternFormatter.h>
#include <gtest/gtest.h>

#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>

namespace echod {
namespace {

/// A pipe the channel writes to; its read end does not block.
struct Pipe {
  Pipe() {
    EXPECT_EQ(::pipe2(fds, O_NONBLOCK), 0);
    ::fcntl(fds[1], F_SETPIPE_SZ, 1 << 20);  // room for the whole bounded buffer
  }
  ~Pipe() {
    ::close(fds[0]);
    ::close(fds[1]);
  }
  /// Everything written so far.
  std::string drain() {
    std::string got;
    char buffer[4096];
    for (ssize_t n; (n = ::read(fds[0], buffer, sizeof buffer)) > 0;) got.append(buffer, static_cast<std::size_t>(n));
    return got;
  }
  int fds[2] = {-1, -1};
};

Poco::Message line(const std::string& text, Poco::Message::Priority priority) {
  return Poco::Message("test", text, priority);
}

constexpr auto kNever = std::chrono::hours(1);

TEST(StderrChannel, InformationWaitsAndANoticeTakesItOutInOrder) {
  Pipe pipe;
  Poco::AutoPtr<StderrChannel> channel(new StderrChannel(pipe.fds[1], kNever));
  channel->log(line("opened", Poco::Message::PRIO_INFORMATION));
  channel->log(line("closed", Poco::Message::PRIO_INFORMATION));
  EXPECT_EQ(pipe.drain(), "");
  channel->log(line("stopping", Poco::Message::PRIO_NOTICE));
  EXPECT_EQ(pipe.drain(), "opened\nclosed\nstopping\n");
  channel->log(line("error", Poco::Message::PRIO_ERROR));
  EXPECT_EQ(pipe.drain(), "error\n");
  channel->close();
}

TEST(StderrChannel, TheBufferIsBounded) {
  Pipe pipe;
  Poco::AutoPtr<StderrChannel> channel(new StderrChannel(pipe.fds[1], kNever));
  const std::string text(99, 'x');  // 100 bytes with its newline
  std::size_t logged = 0;
  while (logged < StderrChannel::kBufferBytes) {
    channel->log(line(text, Poco::Message::PRIO_INFORMATION));
    logged += 100;
  }
  EXPECT_EQ(pipe.drain().size(), logged);
  channel->close();
}

TEST(StderrChannel, AFormatterShapesEveryLineShortOrLong) {
  Pipe pipe;
  Poco::AutoPtr<StderrChannel> channel(new StderrChannel(pipe.fds[1], kNever, new Poco::PatternFormatter("%p %s: %t")));
  channel->log(line("opened", Poco::Message::PRIO_INFORMATION));
  const std::string longer(3 * StderrChannel::kLineBytes, 'y');  // past the room a line is given
  channel->log(line(longer, Poco::Message::PRIO_NOTICE));
  EXPECT_EQ(pipe.drain(), "Information test: opened\nNotice test: " + longer + "\n");
  channel->close();
}

TEST(StderrChannel, CloseWritesTheRestAndLaterLinesGoOutAtOnce) {
  Pipe pipe;
  Poco::AutoPtr<StderrChannel> channel(new StderrChannel(pipe.fds[1], kNever));
  channel->log(line("last words", Poco::Message::PRIO_DEBUG));
  channel->close();
  EXPECT_EQ(pipe.drain(), "last words\n");
  channel->log(line("after close", Poco::Message::PRIO_INFORMATION));
  EXPECT_EQ(pipe.drain(), "after close\n");
}

TEST(StderrChannel, TheFlusherWritesBufferedLinesWithinItsInterval) {
  Pipe pipe;
  Poco::AutoPtr<StderrChannel> channel(new StderrChannel(pipe.fds[1], std::chrono::milliseconds(20)));
  channel->log(line("one", Poco::Message::PRIO_INFORMATION));
  channel->log(line("two", Poco::Message::PRIO_INFORMATION));
  std::string got;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (got.size() < 8 && std::chrono::steady_clock::now() < deadline) {
    got += pipe.drain();
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_EQ(got, "one\ntwo\n");
  channel->close();
}

}  // namespace
}  // namespace echod
