// verify-consumer PUBLIC_KEY_PEM_FILE KID ISSUER AUDIENCE TOKEN
// Verifies TOKEN with the public key in the PEM file (under KID): prints the subject and
// exits 0, or prints the RFC 6750 error and exits 1 (2 for a usage or key error).
#include <verify/Verifier.h>

#include <fstream>
#include <iostream>
#include <sstream>

int main(int argc, char** argv) {
    if (argc != 6) {
        std::cerr << "usage: verify-consumer PUBLIC_KEY_PEM_FILE KID ISSUER AUDIENCE TOKEN\n";
        return 2;
    }
    std::ifstream in(argv[1]);
    std::stringstream pem;
    pem << in.rdbuf();
    try {
        authsvc::verify::Verifier verifier({argv[3], argv[4]},
                                           authsvc::verify::publicKeyPem(pem.str(), argv[2]));
        const auto v = verifier.verifyAuthorization(std::string("Bearer ") + argv[5]);
        if (!v) {
            std::cout << httpStatus(v.reason) << " " << challenge(v.reason, "consumer") << "\n";
            return 1;
        }
        std::cout << "sub=" << v.claims->sub << "\n";
        return 0;
    } catch (const authsvc::verify::KeyError& e) {
        std::cerr << "key: " << e.what() << "\n";
        return 2;
    }
}
