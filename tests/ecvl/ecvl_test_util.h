// Helpers shared by the ECVL tests: error expectations and a per-process scratch folder.
#pragma once
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include "ecvl/ecvl.h"

namespace ecvl_test {

/// f() must throw an ecvl::Error whose message contains `part`.
template <class F>
void expect_ecvl_error(F f, const std::string& part) {
    try {
        f();
        ADD_FAILURE() << "no ecvl::Error; expected one containing: " << part;
    } catch (const ecvl::Error& e) {
        EXPECT_NE(std::string(e.what()).find(part), std::string::npos) << "message: " << e.what();
    }
}

/// A scratch folder of this test process, created on first use: <tmp>/<tag>_<pid>.
inline std::string scratch_dir(const std::string& tag) {
    const std::string p = testing::TempDir() + tag + "_" + std::to_string(::getpid());
    std::filesystem::create_directories(p);
    return p;
}

}  // namespace ecvl_test
