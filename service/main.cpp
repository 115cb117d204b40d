#include <csignal>
#include <iostream>

#include <Poco/ConsoleChannel.h>
#include <Poco/Exception.h>
#include <Poco/FormattingChannel.h>
#include <Poco/Logger.h>
#include <Poco/PatternFormatter.h>

#include "service/EchoServerApp.h"

int main(int argc, char** argv) {
  // Block the termination signals before any thread starts, so every thread
  // inherits the mask and only waitForTerminationRequest()'s sigwait() takes
  // them; otherwise a pool thread could receive SIGTERM and die with it.
  sigset_t termination;
  sigemptyset(&termination);
  sigaddset(&termination, SIGINT);
  sigaddset(&termination, SIGTERM);
  sigaddset(&termination, SIGQUIT);
  pthread_sigmask(SIG_BLOCK, &termination, nullptr);
  // A peer that vanishes mid-write must cost one connection, not the process.
  std::signal(SIGPIPE, SIG_IGN);

  // Until the settings set up logging, anything POCO reports (a bad option,
  // an unreadable file) reaches stderr as one line naming the program.
  Poco::Logger::root().setChannel(
      new Poco::FormattingChannel(new Poco::PatternFormatter("echo-server: %t"), new Poco::ConsoleChannel));
  echod::EchoServerApp app;
  try {
    return app.run(argc, argv);
  } catch (const Poco::Exception& e) {
    std::cerr << "echo-server: " << e.displayText() << '\n';
    return Poco::Util::Application::EXIT_SOFTWARE;
  }
}
