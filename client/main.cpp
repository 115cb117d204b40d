#include <csignal>
#include <iostream>

#include <Poco/Exception.h>

#include "client/EchoClientApp.h"

int main(int argc, char** argv) {
  // A server that vanishes mid-write must give an error message, not kill us.
  std::signal(SIGPIPE, SIG_IGN);
  echod::EchoClientApp app;
  try {
    app.init(argc, argv);
  } catch (const Poco::Exception& e) {
    std::cerr << "echo-client: " << e.displayText() << " (see --help)\n";
    return Poco::Util::Application::EXIT_USAGE;
  }
  return app.run();
}
