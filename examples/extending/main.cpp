// authsvc-notes: authsvc with the notes of examples/extending (docs/EXTENDING.md) added
// through app::Extension. `authsvc-notes serve --config FILE` serves like `authsvc serve`,
// plus POST /api/notes; every other command (migrate, user role add, ...) is authsvc's.
#include <pthread.h>
#include <signal.h>

#include <iostream>
#include <string>

#include "app/Application.h"
#include "app/config/Config.h"
#include "extending/NotesExtension.h"

int main(int argc, char** argv) {
    if (argc != 4 || std::string(argv[1]) != "serve" || std::string(argv[2]) != "--config") {
        std::cerr << "usage: authsvc-notes serve --config FILE\n";
        return 2;
    }
    // As authsvc's main(): SIGTERM/SIGINT stop, SIGHUP reloads the keys (sigwait in serve()).
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGTERM);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);
    try {
        authsvc::app::Application app(authsvc::app::loadConfig(argv[3]), true, notes::extension());
        return app.serve(signals);
    } catch (const authsvc::app::ConfigError& e) {
        std::cerr << "authsvc-notes: config error: " << e.what() << "\n";
        return 2;
    } catch (const std::exception& e) {
        std::cerr << "authsvc-notes: " << e.what() << "\n";
        return 1;
    }
}
