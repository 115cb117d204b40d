// The settings tables are the one home of every setting and its default:
// --help is generated from them, and this test fails when the shipped
// properties file, docs/configuration.md or the README leave one out or show
// another default.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>

#include "client/ClientSettings.h"
#include "service/server/ServerSettings.h"

namespace echod {
namespace {

std::string slurp(const std::string& relative) {
  std::ifstream in(std::string(ECHO_SOURCE_DIR) + "/" + relative);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

/// The line of `text` that holds `needle`, or "".
std::string lineWith(const std::string& text, const std::string& needle) {
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.find(needle) != std::string::npos) return line;
  }
  return "";
}

/// A default as documentation writes it: 'echo : ' → echo : (inside backticks there).
std::string bare(const std::string& value) {
  if (value.size() >= 2 && value.front() == '\'' && value.back() == '\'') return value.substr(1, value.size() - 2);
  return value;
}

TEST(SettingsDocs, PropertiesFileListsEveryServerKeyWithItsDefault) {
  const std::string file = slurp("config/echo-server.properties");
  ASSERT_FALSE(file.empty());
  for (const auto& spec : ServerSettings::specs()) {
    const std::string key(spec.key);
    const std::string line = lineWith(file, key + " = ");
    ASSERT_FALSE(line.empty()) << key << " is missing from config/echo-server.properties";
    const std::string value = line.substr(line.find(" = ") + 3);
    const std::string expected =
        spec.defaultValue.front() == '\'' ? "\"" + bare(spec.defaultValue) + "\"" : spec.defaultValue;
    EXPECT_EQ(value, expected) << key << ": the properties file shows another default than the server has";
  }
}

TEST(SettingsDocs, ConfigurationDocumentHasARowPerServerSettingWithItsDefault) {
  const std::string doc = slurp("docs/configuration.md");
  ASSERT_FALSE(doc.empty());
  for (const auto& spec : ServerSettings::specs()) {
    const std::string row = lineWith(doc, "| `" + std::string(spec.key) + "` |");
    ASSERT_FALSE(row.empty()) << spec.key << " has no row in docs/configuration.md";
    EXPECT_NE(row.find("`--" + std::string(spec.option) + "`"), std::string::npos) << row;
    EXPECT_NE(row.find("`" + std::string(spec.env) + "`"), std::string::npos) << row;
    EXPECT_NE(row.find("| `" + bare(spec.defaultValue) + "` |"), std::string::npos)
        << spec.key << ": docs/configuration.md shows another default than " << spec.defaultValue;
  }
}

TEST(SettingsDocs, ReadmeTableHasEveryServerSettingWithItsDefault) {
  const std::string readme = slurp("README.md");
  ASSERT_FALSE(readme.empty());
  for (const auto& spec : ServerSettings::specs()) {
    const std::string row = lineWith(readme, "| `" + std::string(spec.key) + "` |");
    ASSERT_FALSE(row.empty()) << spec.key << " has no row in the README's settings table";
    EXPECT_NE(row.find("`--" + std::string(spec.option) + "="), std::string::npos) << row;
    EXPECT_NE(row.find("`" + std::string(spec.env) + "`"), std::string::npos) << row;
    EXPECT_NE(row.find("| `" + bare(spec.defaultValue) + "`"), std::string::npos)
        << spec.key << ": the README shows another default than " << spec.defaultValue;
  }
}

TEST(SettingsDocs, ConfigurationDocumentHasARowPerClientOptionWithItsDefault) {
  const std::string doc = slurp("docs/configuration.md");
  for (const auto& spec : ClientSettings::specs()) {
    const std::string row = lineWith(doc, "| `--" + std::string(spec.option) + "` |");
    ASSERT_FALSE(row.empty()) << "--" << spec.option << " has no row in docs/configuration.md's client table";
    EXPECT_NE(row.find("| `" + bare(spec.defaultValue) + "`"), std::string::npos)
        << "--" << spec.option << ": docs/configuration.md shows another default than " << spec.defaultValue;
    if (!spec.env.empty()) {
      EXPECT_NE(row.find("`" + std::string(spec.env) + "`"), std::string::npos) << row;
    }
  }
}

}  // namespace
}  // namespace echod
