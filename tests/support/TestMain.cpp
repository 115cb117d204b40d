#include <Poco/Logger.h>
#include <Poco/Message.h>
#include <gtest/gtest.h>

#include <csignal>

int main(int argc, char** argv) {
  // As in echo-server's main: a vanished peer costs a connection, never the process.
  std::signal(SIGPIPE, SIG_IGN);
  // Per-connection lines would drown the test output; warnings and errors stay.
  Poco::Logger::setLevel("", Poco::Message::PRIO_WARNING);
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
