#include "middleware/Admission.h"

namespace authsvc::middleware {

std::optional<Refusal> admit(const AdmissionList& list, Admission::Runs where,
                             const HttpRequest& req, Admitted& admitted) {
    for (const auto& check : list) {
        if (check->runs() != where) continue;
        if (auto refused = check->admit(req, admitted)) return refused;
    }
    return std::nullopt;
}

std::optional<std::string> admissionProblem(const AdmissionList& list, bool onWorker) {
    bool workerSeen = false;
    for (const auto& check : list) {
        if (!check) return "a null check";
        if (check->runs() == Admission::Runs::OnWorker) {
            if (!onWorker) return "a check that blocks on a route that runs on the reactor";
            workerSeen = true;
        } else if (workerSeen) {
            return "a reactor check after a worker check";
        }
    }
    return std::nullopt;
}

}  // namespace authsvc::middleware
