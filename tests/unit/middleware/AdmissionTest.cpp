// The admission list (middleware/Admission.h): checks run in their order, the first refusal
// ends the list, each phase (reactor, worker) runs only its own checks, and a list that
// cannot run as written is named at construction (admissionProblem).
#include "middleware/Admission.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace {

using authsvc::controllers::HttpRequest;
using authsvc::controllers::Refusal;
using authsvc::middleware::Admission;
using authsvc::middleware::AdmissionList;
using authsvc::middleware::admissionProblem;
using authsvc::middleware::admit;
using authsvc::middleware::Admitted;
using authsvc::models::Error;
using authsvc::models::ErrorCode;
using authsvc::models::makeError;
using Runs = Admission::Runs;

// A developer's check: records that it ran; refuses when told to.
class Recording final : public Admission {
  public:
    Recording(std::vector<std::string>& log, std::string name, bool refuse = false,
              Runs runs = Runs::OnReactor)
        : Admission(runs), log_(log), name_(std::move(name)), refuse_(refuse) {}
    std::optional<Refusal> admit(const HttpRequest& /*req*/,
                                 Admitted& /*admitted*/) const override {
        log_.push_back(name_);
        if (refuse_) return makeError(ErrorCode::NotFound, name_ + " refused");
        return std::nullopt;
    }

  private:
    std::vector<std::string>& log_;
    std::string name_;
    bool refuse_;
};

TEST(AdmissionTest, ChecksRunInTheirOrderUntilTheFirstRefusal) {
    std::vector<std::string> log;
    const AdmissionList list{std::make_shared<Recording>(log, "a"),
                             std::make_shared<Recording>(log, "b", true),
                             std::make_shared<Recording>(log, "c")};
    Admitted admitted;
    auto refused = admit(list, Runs::OnReactor, HttpRequest{}, admitted);
    ASSERT_TRUE(refused);
    EXPECT_EQ(std::get<Error>(*refused).message, "b refused");
    EXPECT_EQ(log, (std::vector<std::string>{"a", "b"}));
}

TEST(AdmissionTest, EachPhaseRunsItsOwnChecks) {
    std::vector<std::string> log;
    const AdmissionList list{
        std::make_shared<Recording>(log, "reactor"),
        std::make_shared<Recording>(log, "worker", false, Runs::OnWorker),
    };
    Admitted admitted;
    EXPECT_FALSE(admit(list, Runs::OnReactor, HttpRequest{}, admitted));
    EXPECT_EQ(log, (std::vector<std::string>{"reactor"}));
    EXPECT_FALSE(admit(list, Runs::OnWorker, HttpRequest{}, admitted));
    EXPECT_EQ(log, (std::vector<std::string>{"reactor", "worker"}));
    EXPECT_FALSE(admit({}, Runs::OnReactor, HttpRequest{}, admitted)) << "no checks: admitted";
}

TEST(AdmissionTest, AListThatCannotRunAsWrittenIsNamed) {
    std::vector<std::string> log;
    auto reactor = std::make_shared<Recording>(log, "r");
    auto worker = std::make_shared<Recording>(log, "w", false, Runs::OnWorker);
    EXPECT_EQ(admissionProblem({reactor, worker}, true), std::nullopt);
    EXPECT_EQ(admissionProblem({reactor}, false), std::nullopt);
    EXPECT_TRUE(admissionProblem({reactor, worker}, false)) << "a worker check on the reactor";
    EXPECT_TRUE(admissionProblem({worker, reactor}, true)) << "a reactor check after a worker one";
    EXPECT_TRUE(admissionProblem({reactor, nullptr}, true));
}

}  // namespace
