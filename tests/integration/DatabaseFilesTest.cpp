// The SQLite database holds password hashes: authsvc creates its directory 0700 and the
// database, -wal and -shm files 0600 whatever the umask, and warns at start when an
// existing one is readable by other users.
#include <sys/stat.h>

#include "support/Harness.h"

namespace it {
namespace {

using namespace std::chrono_literals;

unsigned modeOf(const fs::path& p) {
    struct stat st {};
    if (::stat(p.c_str(), &st) != 0) return 01000;  // missing
    return st.st_mode & 0777;
}

// Runs the server under the usual umask 022 (restored afterwards).
class Umask022 {
  public:
    Umask022() : old_(::umask(022)) {}
    ~Umask022() { ::umask(old_); }

  private:
    mode_t old_;
};

const char* kWarning = "is readable by other users";

class DatabaseFilesTest : public ::testing::Test {
  protected:
    void SetUp() override { SKIP_IF_POSTGRESQL("SQLite files"); }
};

TEST_F(DatabaseFilesTest, ANewDatabaseItsLogsAndItsDirectoriesArePrivate) {
    Umask022 umask;
    ServerProcess server;
    const fs::path dir = server.dir() / "private" / "nested";
    const fs::path db = dir / "authsvc.db";
    server.config()["database"]["sqlite"]["path"] = db.string();
    ASSERT_TRUE(server.start()) << server.logTail();
    HttpClient client(server.port());
    ASSERT_EQ(registerUser(client, uniqueEmail(), kPassword).status, 201);
    EXPECT_EQ(modeOf(server.dir() / "private"), 0700u);
    EXPECT_EQ(modeOf(dir), 0700u);
    EXPECT_EQ(modeOf(db), 0600u);
    // SQLite creates them with the database file's permissions.
    EXPECT_EQ(modeOf(fs::path(db.string() + "-wal")), 0600u);
    EXPECT_EQ(modeOf(fs::path(db.string() + "-shm")), 0600u);
    EXPECT_EQ(server.log().find(kWarning), std::string::npos) << server.log();
}

TEST_F(DatabaseFilesTest, ADatabaseReadableByOthersIsWarnedAboutAtStart) {
    Umask022 umask;
    ServerProcess server;
    ASSERT_TRUE(server.start()) << server.logTail();
    ASSERT_EQ(server.stop(), 0);
    ASSERT_EQ(::chmod(server.dbPath().c_str(), 0644), 0);
    ASSERT_TRUE(server.start()) << server.logTail();
    const std::string log = server.waitForLog(kWarning, 2s);
    EXPECT_NE(log.find(server.dbPath().string() + " " + kWarning), std::string::npos) << log;
    // The service runs as usual, and an existing file is left as it is.
    HttpClient client(server.port());
    EXPECT_EQ(registerUser(client, uniqueEmail(), kPassword).status, 201);
    EXPECT_EQ(modeOf(server.dbPath()), 0644u);
}

}  // namespace
}  // namespace it
